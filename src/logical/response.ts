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

export type TokenType = 'service' | 'batch';

/**
 * What an auth method vouches for when it logs a caller in (and what the token store's create
 * endpoints ask for): the core, never the method, mints the token from it, as Vault's
 * logical.Auth. TTLs are seconds; absent or 0 means the mount's default (or maximum).
 */
export interface AuthGrant {
  /** Policies to attach (the role's token_policies). The core adds "default" unless noDefaultPolicy. */
  readonly policies: readonly string[];
  readonly noDefaultPolicy?: boolean;
  /** Shown on the token, after the mount's name: "userpass-alice". */
  readonly displayName: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly ttl?: number;
  /** The most a renewal may reach, counted from issue; capped by the mount's max TTL. */
  readonly maxTtl?: number;
  /** A hard cap on the token's life that no tuning lifts. */
  readonly explicitMaxTtl?: number;
  /** A periodic token's TTL: each renewal resets it to this, with no max TTL. */
  readonly period?: number;
  /** Requests the token may make; 0 for unlimited. */
  readonly numUses?: number;
  /** Whether the token may be renewed (default true). */
  readonly renewable?: boolean;
  /** Client addresses (CIDR blocks or single IPs) the token may be used from; empty for anywhere. */
  readonly boundCidrs?: readonly string[];
  /** "service" or "batch"; absent, the mount's token_type decides (service unless tuned). */
  readonly tokenType?: TokenType;
  /** Who the method knows the caller as (a user name, a role id): the login's entity alias. */
  readonly alias?: { readonly name: string; readonly metadata?: Readonly<Record<string, string>> };
  /** Names of the caller's groups at the identity provider (a JWT's groups claim). */
  readonly groupAliases?: readonly string[];
  /** What the method's renew handler needs (the role name): kept with the token, never shown. */
  readonly internalData?: Readonly<Record<string, unknown>>;
  /** The token store's own requests: a child of the calling token, a chosen token value, a role. */
  readonly tokenStore?: {
    readonly childOfCaller: boolean;
    readonly id?: string;
    readonly role: string;
    /** The path the token is created on ("auth/token/create/app"). */
    readonly path: string;
  };
}

/** What a method's renew handler answers: the caps that hold now (a role's current token_ttl). */
export interface AuthRenewal {
  readonly ttl?: number;
  readonly maxTtl?: number;
  readonly period?: number;
  readonly explicitMaxTtl?: number;
}

/** The token a request was issued (Vault's `auth` block): set by the pipeline, never by a backend. */
export interface AuthResult {
  readonly clientToken: string;
  readonly accessor: string;
  /** Token and identity policies together. */
  readonly policies: readonly string[];
  readonly tokenPolicies: readonly string[];
  /** Policies from the caller's entity and groups. */
  readonly identityPolicies: readonly string[];
  readonly metadata: Readonly<Record<string, string>> | null;
  readonly leaseDuration: number;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly numUses: number;
  readonly entityId: string;
  readonly tokenType: TokenType;
}

/** What a handler returns. `null` from a read means not found (404 with empty errors). */
/** What a wrapped response's envelope says instead of its data (Vault's wrap_info). */
export interface WrapInfo {
  readonly token: string;
  readonly accessor: string;
  readonly ttl: number;
  readonly creation_time: string;
  readonly creation_path: string;
  /** The accessor of the token a wrapped login or token create answered with; "" otherwise. */
  readonly wrapped_accessor: string;
}

export interface LogicalResponse {
  data?: Record<string, unknown> | null;
  /** Set by a login handler (or token create); the pipeline mints the token and answers with `auth`. */
  grant?: AuthGrant;
  /** The envelope's auth block: set by the pipeline, or by the token store when it renews a token. */
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
  /** With a string or bytes raw: the body is that text or those bytes, sent with this content type (sys/metrics in Prometheus' format, a snapshot). */
  contentType?: string;
  /** Set by the pipeline when the response was wrapped: the envelope carries this and no data. */
  wrapInfo?: WrapInfo;
  /**
   * An unwrapped response: the envelope is the one the wrapped request would have answered,
   * with its request id and mount type (sys/wrapping/unwrap).
   */
  unwrapped?: { readonly requestId: string; readonly mountType: string };
  /**
   * A status other than 200/204 for an answer that is not an error. Errors are thrown, never
   * answered this way; each use says why Vault answers so (a deleted KV version is 404 with its
   * metadata; sys/health reports the server's state in its status code).
   */
  httpStatus?: number;
}
