import type { Operation } from '../../logical/index.js';
import type { Capability, ParameterMap, PathRule, Policy } from './policy.js';

/** The merged permissions of every rule written for one path pattern. */
export interface Permissions {
  readonly capabilities: ReadonlySet<Capability>;
  readonly allowedParameters: ParameterMap | null;
  readonly deniedParameters: ParameterMap | null;
  readonly requiredParameters: readonly string[];
}

interface WildcardRule {
  readonly pattern: string;
  /** The path without a trailing "*", split on "/". */
  readonly parts: readonly string[];
  readonly isPrefix: boolean;
  readonly firstWildcard: number;
  readonly wildcards: number;
  readonly length: number;
  readonly perms: Permissions;
}

/** A compiled, immutable ACL: the union of a token's policies. Build once, evaluate many times. */
export interface Acl {
  readonly root: boolean;
  readonly exact: ReadonlyMap<string, Permissions>;
  /** Glob rules (`foo/*`) without segment wildcards, longest prefix first. */
  readonly prefixes: readonly { readonly prefix: string; readonly perms: Permissions }[];
  readonly segmentWildcards: readonly WildcardRule[];
}

export interface AclRequest {
  readonly path: string;
  readonly operation: Operation;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AclResult {
  readonly allowed: boolean;
  /** The matched rule grants sudo (or the token is root). */
  readonly sudo: boolean;
}

const OP_CAPABILITY: Record<Operation, Capability> = {
  read: 'read', create: 'create', update: 'update', patch: 'patch', delete: 'delete', list: 'list',
};

export function compileAcl(policies: readonly Policy[]): Acl {
  const root = policies.some((p) => p.name === 'root');
  const merged = new Map<string, { rule: PathRule; perms: Permissions }>();
  for (const policy of policies) {
    for (const rule of policy.rules) {
      // Keyed by shape and path, never by the text alone: a prefix rule and an exact rule whose
      // path ends in a literal "*" (a templated value) must not merge into one.
      const key = `${rule.isPrefix ? '*' : '='}${rule.path}`;
      const existing = merged.get(key);
      merged.set(key, { rule, perms: existing ? mergePermissions(existing.perms, rule) : fromRule(rule) });
    }
  }
  const exact = new Map<string, Permissions>();
  const prefixes: { prefix: string; perms: Permissions }[] = [];
  const segmentWildcards: WildcardRule[] = [];
  for (const { rule, perms } of merged.values()) {
    if (rule.hasSegmentWildcards) {
      segmentWildcards.push({
        pattern: rule.pattern,
        parts: rule.path.split('/'),
        isPrefix: rule.isPrefix,
        firstWildcard: firstWildcardAt(rule.path),
        wildcards: rule.path.split('/').filter((p) => p === '+').length,
        length: rule.path.length,
        perms,
      });
    } else if (rule.isPrefix) {
      prefixes.push({ prefix: rule.path, perms });
    } else {
      exact.set(rule.path, perms);
    }
  }
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  return { root, exact, prefixes, segmentWildcards };
}

/** Where the first "+" segment starts: a literal "+" inside a segment ("a+b") is no wildcard. */
function firstWildcardAt(path: string): number {
  let at = 0;
  for (const part of path.split('/')) {
    if (part === '+') return at;
    at += part.length + 1;
  }
  return -1;
}

function fromRule(rule: PathRule): Permissions {
  return {
    capabilities: rule.capabilities,
    allowedParameters: rule.allowedParameters,
    deniedParameters: rule.deniedParameters,
    requiredParameters: rule.requiredParameters,
  };
}

/** Vault's merge of two rules on the same pattern: deny wins, capabilities union, parameters merge. */
function mergePermissions(a: Permissions, rule: PathRule): Permissions {
  if (a.capabilities.has('deny') || rule.capabilities.has('deny')) {
    return { ...fromRule(rule), capabilities: new Set<Capability>(['deny']) };
  }
  return {
    capabilities: new Set([...a.capabilities, ...rule.capabilities]),
    allowedParameters: mergeParams(a.allowedParameters, rule.allowedParameters),
    deniedParameters: mergeParams(a.deniedParameters, rule.deniedParameters),
    requiredParameters: [...new Set([...a.requiredParameters, ...rule.requiredParameters])],
  };
}

function mergeParams(a: ParameterMap | null, b: ParameterMap | null): ParameterMap | null {
  if (!a || Object.keys(a).length === 0) return b;
  if (!b) return a;
  const out: Record<string, readonly unknown[]> = { ...b };
  for (const [key, values] of Object.entries(a)) {
    const other = b[key];
    // An empty list (any value) on either side wins over a value list.
    out[key] = values.length === 0 || (other !== undefined && other.length === 0) ? [] : [...values, ...(other ?? [])];
  }
  return out;
}

/**
 * The permissions that govern path, looked up as Vault looks them up for a list operation: the
 * exact rule for the path, else (for a path ending in "/") the exact rule for the path without
 * it, else the highest-priority wildcard rule for the path as given. Only an exact rule is
 * found without the slash: a wildcard must match the listed folder itself, so a deny on
 * `a/private/*` covers `LIST a/private/` even where `a/*` grants list.
 */
function listPermissions(acl: Acl, path: string): Permissions | null {
  return acl.exact.get(path) ?? (path.endsWith('/') ? acl.exact.get(path.slice(0, -1)) : undefined) ?? matchNonExact(acl, path);
}

interface Candidate {
  readonly firstWildcard: number;
  readonly isPrefix: boolean;
  readonly wildcards: number;
  readonly path: string;
  readonly perms: Permissions;
}

/**
 * Vault's documented priority between overlapping wildcard paths. P1 is lower priority than P2 if
 * P1's first wildcard comes earlier; else if only P1 ends in "*"; else if P1 has more "+"
 * segments; else if P1 is shorter; else if P1 sorts first.
 */
function lowerPriority(a: Candidate, b: Candidate): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix;
  if (a.wildcards !== b.wildcards) return a.wildcards > b.wildcards;
  if (a.path.length !== b.path.length) return a.path.length < b.path.length;
  return a.path < b.path;
}

function matchNonExact(acl: Acl, path: string): Permissions | null {
  let best: Candidate | null = null;
  const glob = acl.prefixes.find((p) => path.startsWith(p.prefix));
  if (glob) best = { firstWildcard: glob.prefix.length, isPrefix: true, wildcards: 0, path: glob.prefix, perms: glob.perms };
  if (acl.segmentWildcards.length === 0) return best?.perms ?? null;

  const parts = path.split('/');
  for (const rule of acl.segmentWildcards) {
    if (parts.length < rule.parts.length) continue;
    if (!rule.isPrefix && parts.length !== rule.parts.length) continue;
    let matched = true;
    for (let i = 0; i < rule.parts.length && matched; i++) {
      const want = rule.parts[i]!;
      const got = parts[i]!;
      const last = i === rule.parts.length - 1;
      matched = want === '+' || want === got || (rule.isPrefix && last && got.startsWith(want));
    }
    if (!matched) continue;
    const c: Candidate = {
      firstWildcard: rule.firstWildcard,
      isPrefix: rule.isPrefix,
      wildcards: rule.wildcards,
      path: rule.isPrefix ? rule.pattern.slice(0, -1) : rule.pattern,
      perms: rule.perms,
    };
    if (!best || lowerPriority(best, c)) best = c;
  }
  return best?.perms ?? null;
}

/** Decide one request. Pure: no I/O, no token store. */
export function allowOperation(acl: Acl, req: AclRequest): AclResult {
  if (acl.root) return { allowed: true, sudo: true };
  const perms = req.operation === 'list' ? listPermissions(acl, req.path) : (acl.exact.get(req.path) ?? matchNonExact(acl, req.path));
  if (!perms || perms.capabilities.has('deny')) return { allowed: false, sudo: false };
  const sudo = perms.capabilities.has('sudo');
  if (!perms.capabilities.has(OP_CAPABILITY[req.operation])) return { allowed: false, sudo };
  if (req.operation === 'read' || req.operation === 'create' || req.operation === 'update' || req.operation === 'patch') {
    return { allowed: parametersAllowed(perms, req.data), sudo };
  }
  return { allowed: true, sudo };
}

function parametersAllowed(perms: Permissions, data: Readonly<Record<string, unknown>>): boolean {
  // No constraints to meet: the common case costs nothing.
  if (perms.requiredParameters.length === 0 && perms.deniedParameters === null && perms.allowedParameters === null) return true;
  const keys = Object.keys(data).map((k) => k.toLowerCase());
  const lowered = new Map(Object.entries(data).map(([k, v]) => [k.toLowerCase(), v]));
  for (const required of perms.requiredParameters) if (!lowered.has(required.toLowerCase())) return false;
  if (keys.length === 0) return true;
  const denied = perms.deniedParameters;
  if (denied && Object.keys(denied).length > 0) {
    if (Object.hasOwn(denied, '*')) return false;
    for (const [k, v] of lowered) {
      const values = denied[k];
      if (values && deniedValue(v, values)) return false;
    }
  }
  const allowed = perms.allowedParameters;
  if (!allowed || Object.keys(allowed).length === 0) return true;
  const allowAll = Object.hasOwn(allowed, '*');
  if (allowAll && Object.keys(allowed).length === 1) return true;
  for (const [k, v] of lowered) {
    const values = allowed[k];
    if (!values) {
      if (!allowAll) return false;
    } else if (!valueInList(v, values)) {
      return false;
    }
  }
  return true;
}

/**
 * Allowed: the value, or every element of a list value, matches an entry; [] admits anything.
 * Strings glob on "*" at either end. (Vault 1.21's per-element matching for lists.)
 */
function valueInList(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  if (list.some((item) => matchesItem(item, value))) return true;
  return Array.isArray(value) && value.length > 0 && value.every((v) => list.some((item) => matchesItem(item, v)));
}

/** Denied: [] denies any value; otherwise the value, or any element of a list value, matches an entry. */
function deniedValue(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  if (list.some((item) => matchesItem(item, value))) return true;
  return Array.isArray(value) && value.some((v) => list.some((item) => matchesItem(item, v)));
}

function matchesItem(item: unknown, value: unknown): boolean {
  if (typeof item === 'string' && typeof value === 'string') return globMatch(item, value);
  if (typeof item === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return globMatch(item, String(value));
  return JSON.stringify(item) === JSON.stringify(value);
}

function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const starts = pattern.startsWith('*');
  const ends = pattern.endsWith('*') && pattern.length > 1;
  const core = pattern.slice(starts ? 1 : 0, ends ? -1 : undefined);
  if (starts && ends) return value.includes(core);
  if (starts) return value.endsWith(core);
  if (ends) return value.startsWith(core);
  return value === pattern;
}

/** The capabilities a token has on path, sorted, as `sys/capabilities` reports them. */
export function capabilitiesOn(acl: Acl, path: string): string[] {
  if (acl.root) return ['root'];
  // Vault answers with the lookup of a list operation, so that the capabilities of "a/b/" are
  // exactly what LIST a/b is allowed.
  const perms = listPermissions(acl, path);
  if (!perms || perms.capabilities.has('deny')) return ['deny'];
  const caps = [...perms.capabilities].filter((c) => c !== 'deny');
  return caps.length === 0 ? ['deny'] : caps.sort();
}

/** True if any rule could grant something under the mount path (for sys/internal/ui/mounts). */
export function hasAccessUnder(acl: Acl, mountPath: string): boolean {
  if (acl.root) return true;
  const grants = (p: Permissions) => !p.capabilities.has('deny') && p.capabilities.size > 0;
  for (const [path, perms] of acl.exact) if (path.startsWith(mountPath) && grants(perms)) return true;
  for (const { prefix, perms } of acl.prefixes) {
    if ((prefix.startsWith(mountPath) || mountPath.startsWith(prefix)) && grants(perms)) return true;
  }
  const mountParts = mountPath.replace(/\/$/, '').split('/');
  for (const rule of acl.segmentWildcards) {
    if (!grants(rule.perms)) continue;
    const fits = mountParts.every((part, i) => {
      const want = rule.parts[i];
      return want === undefined ? rule.isPrefix : want === '+' || want === part || (rule.isPrefix && i === rule.parts.length - 1 && part.startsWith(want));
    });
    if (fits) return true;
  }
  return false;
}
