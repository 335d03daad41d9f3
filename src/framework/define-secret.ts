import type { StorageView, SystemView } from '../logical/index.js';

/** A lease as its secret type's handlers see it. Times in milliseconds since the epoch. */
export interface LeaseView {
  readonly id: string;
  readonly issueTime: number;
  readonly expireTime: number;
  /** 0 when never renewed. */
  readonly lastRenewal: number;
}

/** What a renew or revoke handler receives: the mount's storage and system view, and the lease. */
export interface SecretContext {
  readonly storage: StorageView;
  readonly system: SystemView;
  /** What the handler that minted the secret kept for later (a username); never shown to a caller. */
  readonly internalData: Readonly<Record<string, unknown>>;
  readonly lease: LeaseView;
}

/** The TTL a renewal may have, as the core works it out (Vault's CalculateTTL). */
export interface RenewTtl {
  /** Seconds. */
  readonly ttl: number;
  /** When the lease would end, in milliseconds since the epoch. */
  readonly expireTime: number;
  readonly warnings: readonly string[];
}

export interface RenewContext extends SecretContext {
  /** The extension the caller asked for, in seconds; 0 for the default. */
  readonly increment: number;
  /**
   * The TTL this renewal gets within the backend's own limits (a role's default and max TTL)
   * and the mount's. Throws a 400 when the lease is already at its max TTL.
   */
  ttlWithin(limits: { readonly ttl?: number; readonly maxTtl?: number }): RenewTtl;
}

export interface RenewResult {
  readonly ttl: number;
  readonly warnings?: readonly string[];
}

/** A kind of secret a backend mints, with the handlers the expiration manager calls. */
export interface SecretType {
  readonly type: string;
  /** Derived from whether a renew handler is given. */
  readonly renewable: boolean;
  /** Extend the secret (a database user's expiry); absent for secrets that cannot be renewed. */
  readonly renew?: (ctx: RenewContext) => Promise<RenewResult>;
  /**
   * Make the secret unusable. Must be idempotent: a secret that is already gone counts as
   * revoked. Throws when it could not revoke; the expiration manager retries.
   */
  readonly revoke: (ctx: SecretContext) => Promise<void>;
}

export interface SecretSpec {
  readonly type: string;
  readonly renew?: (ctx: RenewContext) => Promise<RenewResult>;
  readonly revoke: (ctx: SecretContext) => Promise<void>;
}

export function defineSecret(spec: SecretSpec): SecretType {
  return { type: spec.type, renewable: spec.renew !== undefined, ...(spec.renew ? { renew: spec.renew } : {}), revoke: spec.revoke };
}
