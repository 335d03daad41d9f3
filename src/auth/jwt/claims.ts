import { badRequest } from '../../logical/index.js';
import { globMatch } from '../../util/index.js';

export type Claims = Readonly<Record<string, unknown>>;

/**
 * A claim by name, or by JSON pointer (RFC 6901) when the name starts with "/":
 * "/https:~1~1example.com~1groups" reaches {"https://example.com/groups": …}. Undefined when absent.
 */
export function claimAt(claims: Claims, name: string): unknown {
  if (!name.startsWith('/')) return Object.hasOwn(claims, name) ? claims[name] : undefined;
  let at: unknown = claims;
  for (const raw of name.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(at) && /^(0|[1-9]\d*)$/.test(key)) at = at[Number(key)];
    else if (typeof at === 'object' && at !== null && !Array.isArray(at) && Object.hasOwn(at, key)) at = (at as Record<string, unknown>)[key];
    else return undefined;
  }
  return at;
}

/**
 * A claim value as a list of comparable scalars: a string, boolean or number stands for a list
 * of one; numbers compare as integers, as Vault's do. Null when the value is none of these.
 */
function scalars(v: unknown, claimSide: boolean): Array<string | number | boolean> | null {
  const one = (x: unknown): string | number | boolean | null => {
    if (typeof x === 'string' || typeof x === 'boolean') return x;
    if (typeof x === 'number' && Number.isFinite(x)) return claimSide ? Math.trunc(x) : x;
    return null;
  };
  const list = Array.isArray(v) ? v : [v];
  const out: Array<string | number | boolean> = [];
  for (const x of list) {
    const s = one(x);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

export type BoundClaimsType = 'string' | 'glob';

/** A role's bound_claims checked when it is written: values are scalars or lists of them (strings only for globs). */
export function checkBoundClaims(bound: Readonly<Record<string, unknown>>, type: BoundClaimsType): void {
  for (const [claim, expected] of Object.entries(bound)) {
    const values = scalars(expected, false);
    if (values === null) throw badRequest(`bound_claims: the value for claim "${claim}" must be a string, number, boolean or a list of them`);
    if (type === 'glob' && values.some((v) => typeof v !== 'string')) throw badRequest(`bound_claims: the value for claim "${claim}" must be strings when bound_claims_type is "glob"`);
  }
}

/** Every bound claim must be present and match one of its values; the message names the claim, never a value. */
export function matchBoundClaims(bound: Readonly<Record<string, unknown>>, type: BoundClaimsType, claims: Claims): void {
  for (const [claim, expected] of Object.entries(bound)) {
    const actual = claimAt(claims, claim);
    if (actual === undefined || actual === null) throw badRequest(`error validating claims: claim "${claim}" is missing`);
    const got = scalars(actual, true);
    if (got === null) throw badRequest(`error validating claims: claim "${claim}" is not a string, bool, int or list`);
    const want = scalars(expected, false) ?? [];
    const hit = want.some((w) => got.some((g) => (type === 'glob' ? typeof w === 'string' && typeof g === 'string' && globMatch(w, g) : w === g)));
    if (!hit) throw badRequest(`error validating claims: claim "${claim}" does not match any associated bound claim values`);
  }
}

/** Metadata copied from claims by claim_mappings ({claim: metadata key}); mapped claims must be strings. */
export function mappedMetadata(mappings: Readonly<Record<string, string>>, claims: Claims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [claim, key] of Object.entries(mappings)) {
    const v = claimAt(claims, claim);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw badRequest(`error converting claim "${claim}" to string`);
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The names in the groups claim: a string stands for a list of one; every item must be a string. */
export function groupNames(claim: string, claims: Claims): string[] {
  const v = claimAt(claims, claim);
  if (v === undefined || v === null) throw badRequest(`"${claim}" claim not found in token`);
  const list = Array.isArray(v) ? v : [v];
  if (list.some((g) => typeof g !== 'string')) throw badRequest(`"${claim}" claim could not be converted to string list`);
  return [...new Set((list as string[]).filter((g) => g !== ''))];
}
