import { badRequest } from '../../logical/index.js';
import type { Claims } from './claims.js';

/** What a token's registered claims must say, as a role and the config set it. */
export interface Expected {
  readonly issuer: string;
  readonly subject: string;
  /** Any one of them must be in "aud"; none means "aud" is not checked here. */
  readonly audiences: readonly string[];
  /** Seconds; 0 means the default, a negative value none. */
  readonly expirationLeeway: number;
  readonly notBeforeLeeway: number;
  readonly clockSkewLeeway: number;
  /** Seconds since the epoch. */
  readonly now: number;
}

const DEFAULT_LEEWAY = 150;
const DEFAULT_CLOCK_SKEW = 60;

const invalid = (message: string) => badRequest(`error validating token: ${message}`);
const leeway = (v: number, fallback: number) => (v < 0 ? 0 : v === 0 ? fallback : v);

/** A NumericDate claim: a finite number, or absent (0). */
function numericDate(claims: Claims, name: string): number {
  const v = claims[name];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`the "${name}" claim is not a number`);
  return v;
}

/** "aud" as a list: RFC 7519 lets a single audience be a bare string. */
export function audiencesOf(claims: Claims): string[] {
  const aud = claims['aud'];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** "aud" must name one of the audiences, when there are any. */
export function checkAudience(claims: Claims, audiences: readonly string[]): void {
  if (audiences.length === 0) return;
  const aud = audiencesOf(claims);
  if (!audiences.some((a) => aud.includes(a))) throw invalid('invalid audience (aud) claim: audience claim does not match any expected audience');
}

/**
 * The registered claims checked as Vault checks them: iss, sub and aud against the expected
 * values, then time. At least one of exp, nbf and iat must be present. A missing exp is taken
 * as the later of iat and nbf plus the expiration leeway; a missing nbf as iat, else exp less
 * the not-before leeway; the clock-skew leeway then widens every bound.
 */
export function checkRegisteredClaims(claims: Claims, expected: Expected): void {
  if (expected.issuer && claims['iss'] !== expected.issuer) throw invalid('invalid issuer (iss) claim');
  if (expected.subject && claims['sub'] !== expected.subject) throw invalid('invalid subject (sub) claim');
  checkAudience(claims, expected.audiences);
  const iat = numericDate(claims, 'iat');
  let exp = numericDate(claims, 'exp');
  let nbf = numericDate(claims, 'nbf');
  if (!iat && !exp && !nbf) throw invalid('no issued at (iat), not before (nbf), or expiration time (exp) claims in token');
  if (!exp) exp = Math.max(iat, nbf) + leeway(expected.expirationLeeway, DEFAULT_LEEWAY);
  if (!nbf) nbf = iat || exp - leeway(expected.notBeforeLeeway, DEFAULT_LEEWAY);
  const skew = leeway(expected.clockSkewLeeway, DEFAULT_CLOCK_SKEW);
  if (expected.now + skew < nbf) throw invalid('invalid not before (nbf) claim: token not yet valid');
  if (expected.now - skew > exp) throw invalid('invalid expiration time (exp) claim: token is expired');
  if (iat && expected.now + skew < iat) throw invalid('invalid issued at (iat) claim: token issued in the future');
}
