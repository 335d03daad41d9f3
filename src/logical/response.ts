/** A lease attached to a response; the pipeline registers it. */
export interface SecretLease {
  readonly ttl: number;
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
  secret?: SecretLease;
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
