import type { Operation } from './operation.js';
import type { StorageView } from './storage.js';

/** What the pipeline knows of the caller once its token has been resolved. */
export interface CallerIdentity {
  /** Keyed hash of the token; the token itself never travels past the pipeline. */
  readonly tokenHash: string;
  readonly accessor: string;
  /** The policies its requests are judged by: the token's own and its entity's and groups'. */
  readonly policies: readonly string[];
  /** The identity entity the token belongs to; "" for none. */
  readonly entityId: string;
  readonly displayName: string;
  /** True for a token holding the root policy. */
  readonly isRoot: boolean;
  /** Id of the token's private cubbyhole storage. */
  readonly cubbyholeId: string;
}

/** What the server knows of the connection a request came on. */
export interface ConnectionInfo {
  /** The client's IP address (IPv4 as dotted quad, never "::ffff:"-mapped); "" when unknown. */
  readonly remoteAddress: string;
  /** The client's port; 0 when unknown. */
  readonly remotePort?: number;
  /** The certificate chain the client presented over TLS, leaf first, DER; empty for none. */
  readonly peerCertificates: readonly Uint8Array[];
}

/** The connection of a request made in-process (tests, the expiration manager). */
export const NO_CONNECTION: ConnectionInfo = Object.freeze({ remoteAddress: '', peerCertificates: Object.freeze([]) as readonly Uint8Array[] });

/** A request as a backend sees it: path relative to the mount, data already parsed. */
export interface BackendRequest {
  readonly id: string;
  readonly operation: Operation;
  /** Path inside the mount, without the mount prefix. */
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly mountPoint: string;
  readonly storage: StorageView;
  /** Absent only for unauthenticated requests. */
  readonly caller: CallerIdentity | null;
  /** The request's Content-Type, lower-cased without parameters, or "" when none was sent. */
  readonly contentType: string;
  readonly connection: ConnectionInfo;
  /** The caller's token itself: set only for the token store (lookup-self answers with it). */
  readonly clientToken?: string;
  /** Seconds the response will be wrapped for (X-Vault-Wrap-TTL); 0 when it is not wrapped. */
  readonly wrapTtl: number;
  /** The request body as sent, for the few paths that take a file rather than JSON (a snapshot to restore). */
  readonly body?: Uint8Array;
}

/** A token an auth method issued, as its renew handler sees it. */
export interface AuthRenewRequest {
  /** The method's own storage. */
  readonly storage: StorageView;
  /** What the method put in its grant's internalData. */
  readonly internalData: Readonly<Record<string, unknown>>;
  /** The token's policies as issued (sanitised, "default" included unless left off). */
  readonly policies: readonly string[];
  readonly metadata: Readonly<Record<string, string>> | null;
  /** The login path the token was issued on, relative to the mount ("login/alice"). */
  readonly path: string;
  readonly connection: ConnectionInfo;
}
