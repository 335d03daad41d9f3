/**
 * A secret a handler minted (a database user): the pipeline registers a lease for it before the
 * response leaves the server, and the expiration manager later calls the secret type's revoke
 * handler with `internalData`.
 */
export interface SecretLease {
  /** The secret type, as the backend declared it with defineSecret. */
  readonly type: string;
  /** Requested TTL in seconds; 0 means the mount's default. Capped by the mount's max TTL. */
  readonly ttl: number;
  /** A cap from the backend (a role's max_ttl) in seconds, counted from issue; 0 for none. */
  readonly maxTtl?: number;
  /** What revoke and renew need (a username): kept in the lease, never returned. */
  readonly internalData: Readonly<Record<string, unknown>>;
}

/** The lease fields of Vault's envelope: `lease_id`, `lease_duration`, `renewable`. */
export interface LeaseInfo {
  readonly id: string;
  /** Seconds. */
  readonly duration: number;
  readonly renewable: boolean;
}

/** Authentication produced by a login or token-create path; the pipeline turns it into a token. */
export interface AuthResult {
  readonly clientToken: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly tokenPolicies: readonly string[];
  readonly metadata: Readonly<Record<string, string>> | null;
  readonly leaseDuration: number;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly numUses: number;
  readonly entityId: string;
  readonly tokenType: 'service' | 'batch';
}

/** What a handler returns. `null` from a read means not found (404 with empty errors). */
export interface LogicalResponse {
  data?: Record<string, unknown> | null;
  auth?: AuthResult;
  /** Set by a handler that minted a secret; the pipeline replaces it with `lease`. */
  secret?: SecretLease;
  /** The envelope's lease fields (set by the pipeline, or by sys/leases/renew). */
  lease?: LeaseInfo;
  warnings?: string[];
  /**
   * A body sent as it is, outside Vault's envelope: the sys endpoints Vault serves raw
   * (sys/health, sys/seal-status, sys/init, sys/unseal).
   */
  raw?: unknown;
  /**
   * A status other than 200/204 for an answer that is not an error. Errors are thrown, never
   * answered this way; each use says why Vault answers so (a deleted KV version is 404 with its
   * metadata; sys/health reports the server's state in its status code).
   */
  httpStatus?: number;
}
