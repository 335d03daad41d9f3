import type { Operation } from './operation.js';
import type { StorageView } from './storage.js';

/** What the pipeline knows of the caller once its token has been resolved. */
export interface CallerIdentity {
  /** Keyed hash of the token; the token itself never travels past the pipeline. */
  readonly tokenHash: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  /** True for a token holding the root policy. */
  readonly isRoot: boolean;
  /** Id of the token's private cubbyhole storage. */
  readonly cubbyholeId: string;
}

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
  /** The caller's token itself: set only for the token store (lookup-self answers with it). */
  readonly clientToken?: string;
}
