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
  /** Set when the answer is not 200/204: KV v2 answers a deleted version with 404 and a body. */
  httpStatus?: number;
}
