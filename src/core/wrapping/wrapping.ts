import { badRequest, getJSON, putJSON, type AuthResult, type LeaseInfo, type StorageView, type WrapInfo } from '../../logical/index.js';
import type { TokenEntry, TokenStore } from '../tokens/token-store.js';

/** The policy of a wrapping token: it opens nothing but sys/wrapping/unwrap, lookup and rewrap. */
export const WRAPPING_POLICY = 'response-wrapping';

/** The response kept under a wrapping token: the envelope the request would have answered. */
export interface WrappedResponse {
  readonly requestId: string;
  readonly mountType: string;
  readonly data: Readonly<Record<string, unknown>> | null;
  readonly auth?: AuthResult;
  readonly lease?: LeaseInfo;
  readonly warnings?: readonly string[];
}

interface Stored {
  readonly response: WrappedResponse;
  readonly creation_path: string;
  readonly creation_time: string;
  readonly creation_ttl: number;
}

/** Vault's answer for a wrapping token that is unknown, used up, expired or not a wrapping token. */
export const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

/** The paths a wrapping token opens (relative to sys/). */
export const WRAPPING_TOKEN_PATHS = ['wrapping/unwrap', 'wrapping/lookup', 'wrapping/rewrap'];

export function isWrappingToken(entry: TokenEntry): boolean {
  return entry.policies.length === 1 && entry.policies[0] === WRAPPING_POLICY;
}

/**
 * Response wrapping: a response handed out as a single-use token instead of itself. The token
 * is an orphan service token with one use and the wrap TTL, whose only policy opens
 * sys/wrapping/*; the response is kept behind the barrier under the token's id and goes when the
 * token does (unwrapped, expired or revoked). Unwrapping spends the token's one use under the
 * token store's per-token lock, so of any number of parallel unwraps exactly one succeeds.
 */
export class Wrapping {
  readonly #view: StorageView;
  readonly #tokens: TokenStore;
  readonly #maxTtl: () => number;

  constructor(opts: { view: StorageView; tokens: TokenStore; maxTtl: () => number }) {
    this.#view = opts.view;
    this.#tokens = opts.tokens;
    this.#maxTtl = opts.maxTtl;
  }

  /** Keep a response under a new wrapping token; answers the envelope's wrap_info. */
  async wrap(response: WrappedResponse, ttl: number, creationPath: string): Promise<WrapInfo> {
    if (!Number.isSafeInteger(ttl) || ttl < 1) throw badRequest('the wrap TTL must be at least one second');
    const max = this.#maxTtl();
    if (max > 0 && ttl > max) throw badRequest(`the wrap TTL of ${ttl}s is longer than the maximum of ${max}s`);
    const { token, entry } = await this.#tokens.create({
      parent: '',
      policies: [WRAPPING_POLICY],
      path: creationPath,
      meta: null,
      displayName: 'response-wrapping',
      numUses: 1,
      ttl,
      explicitMaxTtl: ttl,
      period: 0,
      renewable: false,
      role: '',
    });
    const creationTime = new Date(entry.creationTime * 1000).toISOString();
    const stored: Stored = { response, creation_path: creationPath, creation_time: creationTime, creation_ttl: ttl };
    try {
      await putJSON(this.#view, entry.id, stored);
    } catch (e) {
      await this.#tokens.revokeOrphan(entry.id).catch(() => {});
      throw e;
    }
    return { token, accessor: entry.accessor, ttl, creation_time: creationTime, creation_path: creationPath, wrapped_accessor: response.auth?.accessor ?? '' };
  }

  /** What a wrapping token given by value holds, without spending it. */
  async lookupToken(token: unknown): Promise<{ creation_path: string; creation_time: string; creation_ttl: number }> {
    if (typeof token !== 'string' || token === '') throw badRequest(INVALID_WRAPPING_TOKEN);
    return this.lookup(this.#tokens.hash(token));
  }

  /** What a wrapping token holds, without spending it (sys/wrapping/lookup). */
  async lookup(tokenId: string): Promise<{ creation_path: string; creation_time: string; creation_ttl: number }> {
    const entry = await this.#tokens.lookupByHash(tokenId);
    const stored = entry && isWrappingToken(entry) ? await getJSON<Stored>(this.#view, tokenId) : null;
    if (!stored) throw badRequest(INVALID_WRAPPING_TOKEN);
    return { creation_path: stored.creation_path, creation_time: stored.creation_time, creation_ttl: stored.creation_ttl };
  }

  /**
   * Spend the one use of a wrapping token given in a request body (its holder asks with a token
   * of its own). Unknown, expired, used up by a parallel request, or not a wrapping token: 400.
   */
  async spend(token: unknown): Promise<TokenEntry> {
    const entry = typeof token === 'string' && token !== '' ? await this.#tokens.use(token) : null;
    if (!entry || !isWrappingToken(entry)) throw badRequest(INVALID_WRAPPING_TOKEN);
    return entry;
  }

  /** Revoke a wrapping token whose use was spent by spend() (the pipeline does this for the caller's own). */
  async finish(entry: TokenEntry): Promise<void> {
    await this.#tokens.afterUse(entry);
  }

  /** The response under a spent wrapping token, deleted as it is read: no one reads it twice. */
  async take(tokenId: string): Promise<WrappedResponse> {
    const stored = await getJSON<Stored>(this.#view, tokenId);
    if (!stored) throw badRequest(INVALID_WRAPPING_TOKEN);
    await this.#view.delete(tokenId);
    return stored.response;
  }

  /** The response under a spent wrapping token, under a new one with the same TTL. */
  async rewrap(tokenId: string): Promise<WrapInfo> {
    const stored = await getJSON<Stored>(this.#view, tokenId);
    if (!stored) throw badRequest(INVALID_WRAPPING_TOKEN);
    const info = await this.wrap(stored.response, stored.creation_ttl, stored.creation_path);
    await this.#view.delete(tokenId);
    return info;
  }

  /** A revoked (or expired) wrapping token takes its response with it. */
  async tokenRevoked(entry: TokenEntry): Promise<void> {
    if (isWrappingToken(entry)) await this.#view.delete(entry.id);
  }
}
