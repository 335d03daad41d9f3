import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, type KeyLike, type ProtectedHeaderParameters } from 'jose';
import { CofferError, badRequest } from '../../logical/index.js';
import { OutboundError, sendJson, type Clock, type Logger } from '../../util/index.js';

/** The asymmetric algorithms a JWT may be signed with; HMAC and "none" never verify here. */
export const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

/** A JWT whose signature checked out: its decoded claims. */
export type VerifiedClaims = Record<string, unknown>;

const invalid = (message: string) => badRequest(`error validating token: ${message}`);

/** The token's protected header, once its algorithm is one of those allowed. */
function headerOf(token: string, algorithms: readonly string[]): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid('the token is not a signed JWT');
  }
  if (token.split('.').length !== 3) throw invalid('the token is not a signed JWT');
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw invalid('invalid algorithm (alg) header parameter: token signed with unexpected algorithm');
  return header;
}

/** Verify one compact JWS with one key; null when the signature does not match that key. */
async function tryKey(token: string, key: KeyLike | KeyObject, algorithms: readonly string[]): Promise<Uint8Array | null> {
  try {
    return (await compactVerify(token, key, { algorithms: [...algorithms] })).payload;
  } catch (e) {
    if (e instanceof errors.JOSEAlgNotAllowed) throw invalid('invalid algorithm (alg) header parameter: token signed with unexpected algorithm');
    if (e instanceof errors.JWSInvalid) throw invalid('the token is not a signed JWT');
    return null;
  }
}

function claimsOf(payload: Uint8Array): VerifiedClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw invalid('the token\'s payload is not a JSON object');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw invalid('the token\'s payload is not a JSON object');
  return claims as VerifiedClaims;
}

/** Where a mount's signing keys come from: PEM keys in its config, or a JWKS it fetches. */
export interface KeySet {
  /** The claims of a token signed by one of the keys with one of the algorithms; a 400 otherwise. */
  verify(token: string, algorithms: readonly string[]): Promise<VerifiedClaims>;
}

/** jwt_validation_pubkeys: keys parsed once, tried in turn. */
export class StaticKeys implements KeySet {
  readonly #keys: KeyObject[];
  constructor(pems: readonly string[]) {
    this.#keys = pems.map((pem, i) => {
      try {
        return createPublicKey(pem);
      } catch {
        throw badRequest(`error parsing public key: jwt_validation_pubkeys[${i}] is not a PEM-encoded public key`);
      }
    });
  }
  async verify(token: string, algorithms: readonly string[]): Promise<VerifiedClaims> {
    headerOf(token, algorithms);
    for (const key of this.#keys) {
      const payload = await tryKey(token, key, algorithms);
      if (payload) return claimsOf(payload);
    }
    throw invalid('error verifying token signature: no known key successfully validated the token signature');
  }
}

/** How long fetched keys are trusted before they are fetched again, and how soon an unknown kid may fetch again. */
const MAX_AGE_MS = 60 * 60_000;
const REFRESH_COOLDOWN_MS = 10_000;

/**
 * A JWKS fetched once and kept: fetched again when a token names a key id it does not hold
 * (the issuer rotated its keys; at most once per cooldown, one fetch at a time), and after an
 * hour so that keys the issuer withdrew stop verifying.
 */
export class RemoteKeys implements KeySet {
  #set: ReturnType<typeof createLocalJWKSet> | null = null;
  #fetchedAt = 0;
  /** When a fetch last started, successful or not: the cooldown counts from it, so an issuer that is down is not asked again for every token. */
  #attemptedAt = -Infinity;
  #inflight: Promise<void> | null = null;

  constructor(
    readonly url: string,
    readonly caPem: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Fetch the JWKS now (config writes check the URL this way). */
  async load(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => (this.#inflight = null));
    await this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#attemptedAt = this.clock.now();
    let res: { status: number; body: unknown };
    try {
      res = await sendJson({ url: this.url, caPem: this.caPem });
    } catch (e) {
      throw new CofferError('internal', `fetching the JWKS failed: ${e instanceof OutboundError ? e.message : 'unknown error'}`);
    }
    if (res.status !== 200) throw new CofferError('internal', `fetching the JWKS failed: HTTP ${res.status}`);
    const keys = (res.body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new CofferError('internal', 'fetching the JWKS failed: the answer has no "keys" list');
    this.#set = createLocalJWKSet(res.body as JSONWebKeySet);
    this.#fetchedAt = this.clock.now();
  }

  /** Fetch again, unless a fetch started within the cooldown; a failure keeps the keys held (and is logged). */
  async #refresh(): Promise<boolean> {
    if (this.clock.now() - this.#attemptedAt < REFRESH_COOLDOWN_MS) return false;
    try {
      await this.load();
      return true;
    } catch (e) {
      this.logger.warn('refreshing the JWKS failed; keeping the keys fetched before', { url: this.url, error: e instanceof Error ? e.message : String(e) });
      return false;
    }
  }

  async verify(token: string, algorithms: readonly string[]): Promise<VerifiedClaims> {
    const header = headerOf(token, algorithms);
    if (!this.#set) await this.load();
    else if (this.clock.now() - this.#fetchedAt > MAX_AGE_MS) await this.#refresh();
    const first = await this.#verifyWith(token, header, algorithms);
    if (first !== 'no-key') return first;
    if (await this.#refresh()) {
      const second = await this.#verifyWith(token, header, algorithms);
      if (second !== 'no-key') return second;
    }
    throw invalid('error verifying token signature: no key in the JWKS matches the token\'s key id and algorithm');
  }

  async #verifyWith(token: string, header: ProtectedHeaderParameters, algorithms: readonly string[]): Promise<VerifiedClaims | 'no-key'> {
    const set = this.#set!;
    let candidates: Array<KeyLike | KeyObject>;
    try {
      candidates = [await set(header, { payload: '', signature: '' })];
    } catch (e) {
      if (e instanceof errors.JWKSMultipleMatchingKeys) {
        candidates = [];
        for await (const k of e) candidates.push(k);
      } else if (e instanceof errors.JOSEError) {
        return 'no-key';
      } else throw e;
    }
    for (const key of candidates) {
      const payload = await tryKey(token, key, algorithms);
      if (payload) return claimsOf(payload);
    }
    throw invalid('error verifying token signature: the signature does not match the key it names');
  }
}
