import { parseHcl, toPlain, type HclItem, type HclValue } from '../../hcl/index.js';
import { badRequest } from '../../logical/index.js';
import { parseDurationSeconds } from '../../util/index.js';

export const CAPABILITIES = ['deny', 'create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'subscribe', 'recover'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Parameter constraints: parameter name (lower-cased) → allowed/denied values; [] means any value. */
export type ParameterMap = Readonly<Record<string, readonly unknown[]>>;

/** One `path` stanza of a policy, normalised. */
export interface PathRule {
  /** The path without its trailing "*" (for prefix rules) and without a leading "/". */
  readonly path: string;
  /** The path as written, used to key merges and for display. */
  readonly pattern: string;
  readonly isPrefix: boolean;
  readonly hasSegmentWildcards: boolean;
  readonly capabilities: ReadonlySet<Capability>;
  readonly allowedParameters: ParameterMap | null;
  readonly deniedParameters: ParameterMap | null;
  readonly requiredParameters: readonly string[];
  readonly minWrappingTtl: number;
  readonly maxWrappingTtl: number;
}

export interface Policy {
  readonly name: string;
  /** The text as the operator wrote it, returned verbatim on read. */
  readonly raw: string;
  readonly rules: readonly PathRule[];
  /** True if a rule's path holds identity placeholders ({{identity.entity.id}}). */
  readonly templated: boolean;
}

/** The pre-capabilities grammar: `policy = "read"`. */
const LEGACY: Record<string, readonly Capability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

const TOP_KEYS = new Set(['name', 'path']);
const PATH_KEYS = new Set([
  'comment', 'policy', 'capabilities', 'allowed_parameters', 'denied_parameters', 'required_parameters',
  'min_wrapping_ttl', 'max_wrapping_ttl', 'mfa_methods', 'control_group', 'subscribe_event_types',
]);

/** Parse a policy in Vault's HCL or JSON grammar. Errors are 400s that name the line. */
export function parsePolicy(name: string, raw: string): Policy {
  let root;
  try {
    root = parseHcl(raw);
  } catch (e) {
    throw badRequest(`failed to parse policy: ${(e as Error).message}`);
  }
  const rules: PathRule[] = [];
  for (const item of root.items) {
    if (!TOP_KEYS.has(item.key)) throw badRequest(`failed to parse policy: line ${item.line}: invalid key "${item.key}"`);
    if (item.key !== 'path') continue;
    if (item.value.kind !== 'object') throw badRequest(`failed to parse policy: line ${item.line}: path must be a block`);
    for (const stanza of item.value.items) rules.push(parsePathStanza(stanza));
  }
  return { name, raw, rules, templated: rules.some((r) => r.pattern.includes('{{')) };
}

function parsePathStanza(stanza: HclItem): PathRule {
  // Errors name the line of the offending token, not of the path block around it.
  const fail: Fail = (m, at = stanza) => badRequest(`failed to parse policy: line ${at.line}: path "${stanza.key}": ${m}`);
  if (stanza.value.kind !== 'object') throw fail('must be a block');
  const pattern = stanza.key.replace(/^\/+/, '');
  const caps = new Set<Capability>();
  let allowed: ParameterMap | null = null;
  let denied: ParameterMap | null = null;
  let required: string[] = [];
  let minWrap = 0;
  let maxWrap = 0;

  for (const item of stanza.value.items) {
    if (!PATH_KEYS.has(item.key)) throw fail(`invalid key "${item.key}"`, item);
    const v = item.value;
    switch (item.key) {
      case 'policy': {
        if (v.kind !== 'string' || !(v.value in LEGACY)) throw fail(`invalid policy "${v.kind === 'string' ? v.value : ''}"`, v);
        for (const c of LEGACY[v.value]!) caps.add(c);
        break;
      }
      case 'capabilities':
        for (const c of stringList(v, fail)) {
          if (!(CAPABILITIES as readonly string[]).includes(c.value)) throw fail(`invalid capability "${c.value}"`, c);
          caps.add(c.value as Capability);
        }
        break;
      case 'allowed_parameters':
        allowed = parameterMap(v, fail);
        break;
      case 'denied_parameters':
        denied = parameterMap(v, fail);
        break;
      case 'required_parameters':
        required = stringList(v, fail).map((r) => r.value);
        break;
      case 'min_wrapping_ttl':
        minWrap = wrappingTtl(v, fail);
        break;
      case 'max_wrapping_ttl':
        maxWrap = wrappingTtl(v, fail);
        break;
      default:
        break; // comment, mfa_methods, control_group, subscribe_event_types: accepted, not enforced
    }
  }
  if (minWrap && maxWrap && maxWrap < minWrap) throw fail('max_wrapping_ttl cannot be less than min_wrapping_ttl');
  if (caps.has('deny')) {
    caps.clear();
    caps.add('deny');
  }
  // As in Vault: "*" is a glob only as the last character, "+" a wildcard only as a whole
  // segment; elsewhere both are literal characters. Only "+*" is refused.
  if (pattern.includes('+*')) throw fail(`invalid use of wildcards ('+*' is forbidden)`);
  const isPrefix = pattern.endsWith('*');
  const path = isPrefix ? pattern.slice(0, -1) : pattern;
  return {
    path,
    pattern,
    isPrefix,
    hasSegmentWildcards: path.split('/').includes('+'),
    capabilities: caps,
    allowedParameters: allowed,
    deniedParameters: denied,
    requiredParameters: required,
    minWrappingTtl: minWrap,
    maxWrappingTtl: maxWrap,
  };
}

type Fail = (message: string, at?: { readonly line: number }) => Error;

/** The strings of a list (or of a lone string), each with its line. */
function stringList(v: HclValue, fail: Fail): { value: string; line: number }[] {
  if (v.kind === 'string') return [v];
  if (v.kind !== 'list') throw fail('expected a list of strings', v);
  return v.items.map((i) => {
    if (i.kind !== 'string') throw fail('expected a list of strings', i);
    return i;
  });
}

function parameterMap(v: HclValue, fail: Fail): ParameterMap {
  if (v.kind !== 'object') throw fail('parameter constraints must be a map', v);
  const out: Record<string, unknown[]> = {};
  for (const item of v.items) {
    const val = toPlain(item.value);
    out[item.key.toLowerCase()] = Array.isArray(val) ? val : [val];
  }
  return out;
}

function wrappingTtl(v: HclValue, fail: Fail): number {
  try {
    return parseDurationSeconds(v.kind === 'string' || v.kind === 'number' ? v.value : null, 'wrapping ttl');
  } catch {
    throw fail('invalid wrapping ttl', v);
  }
}
