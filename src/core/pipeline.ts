import { randomUUID } from 'node:crypto';
import type { Backend } from '../framework/index.js';
import {
  CofferError, permissionDenied, type BackendRequest, type CallerIdentity, type LogicalResponse, type Operation,
} from '../logical/index.js';
import type { AuditBroker } from './audit/broker.js';
import type { MountManager } from './mounts/index.js';
import { allowOperation, type PolicyStore } from './policy/index.js';
import type { TokenEntry, TokenStore } from './tokens/token-store.js';

/** A request as the HTTP layer hands it to the core. */
export interface LogicalRequest {
  readonly id?: string;
  readonly operation: Operation;
  /** Path without the /v1/ prefix, already validated and normalised by the HTTP layer. */
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The X-Vault-Token (or bearer) value; "" when none was sent. */
  readonly token: string;
  readonly contentType?: string;
}

/** A handled request: the backend's answer and the type of the mount that gave it. */
export interface Handled {
  readonly response: LogicalResponse | null;
  readonly mountType: string;
}

export interface PipelineDeps {
  readonly mounts: MountManager;
  readonly tokens: TokenStore;
  readonly policies: PolicyStore;
  readonly audit: AuditBroker;
  readonly isSealed: () => boolean;
}

/** The path a request is routed and authorised on: a list's path always ends in "/". */
export function authorisedPath(operation: Operation, path: string): string {
  return operation === 'list' && !path.endsWith('/') ? `${path}/` : path;
}

/** True if relative path matches one of a backend's special-path patterns (trailing * = prefix). */
export function matchesSpecial(patterns: readonly string[], path: string): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p || path === `${p}/`) return true;
  }
  return false;
}

export function callerOf(entry: TokenEntry): CallerIdentity {
  return {
    tokenHash: entry.id,
    accessor: entry.accessor,
    policies: entry.policies,
    displayName: entry.displayName,
    isRoot: entry.policies.includes('root'),
    cubbyholeId: entry.cubbyholeId,
  };
}

/**
 * The one request pipeline: sealed check → token → route → existence check (create vs update)
 * → ACL (capabilities, parameters, sudo) → audit → backend → token use accounting. Every
 * cross-cutting security step lives here and nowhere else.
 */
export async function handleRequest(deps: PipelineDeps, req: LogicalRequest): Promise<Handled> {
  if (deps.isSealed()) throw new CofferError('sealed', 'Vault is sealed');
  // The one place the path is derived: routing, the ACL and the backend all see this string.
  // A list names a folder, so (as Vault does) its path always ends in "/".
  const path = authorisedPath(req.operation, req.path);
  const routed = deps.mounts.route(path);
  const backend: Backend | undefined = routed?.mounted.backend;
  const relative = routed?.relative ?? '';
  const unauthenticated = backend ? matchesSpecial(backend.unauthenticatedPaths, relative) : false;

  // Missing, unknown, expired, used-up and revoked tokens are all the same 403, whether or not
  // the path exists: nothing here may tell an attacker which case they hit.
  let entry: TokenEntry | null = null;
  if (req.token !== '') {
    entry = await deps.tokens.lookup(req.token);
    if (!entry && !unauthenticated) throw permissionDenied();
  } else if (!unauthenticated) {
    throw permissionDenied();
  }

  const id = req.id ?? randomUUID();
  const base: Omit<BackendRequest, 'operation'> = {
    id,
    path: relative,
    data: req.data,
    mountPoint: routed?.mounted.prefix ?? '',
    storage: routed?.mounted.view ?? nullView,
    caller: entry ? callerOf(entry) : null,
    contentType: req.contentType ?? '',
    ...(backend?.type === 'token' && entry ? { clientToken: req.token } : {}),
  };

  let operation = req.operation;
  if (operation === 'update' && backend) {
    const exists = await backend.exists({ ...base, operation });
    if (exists === false) operation = 'create';
  }

  if (!unauthenticated && entry) {
    const acl = await deps.policies.acl(entry.policies);
    const decision = allowOperation(acl, { path, operation, data: req.data });
    if (!decision.allowed) throw permissionDenied();
    if (backend && matchesSpecial(backend.sudoPaths, relative) && !decision.sudo) throw permissionDenied();
    // Spend a use only once the request is allowed; null means a parallel request took the last one.
    if (entry.numUses !== 0) {
      entry = await deps.tokens.use(req.token);
      if (!entry) throw permissionDenied();
    }
  }

  if (!routed || !backend) {
    throw new CofferError('unsupported_path', `no handler for route "${path}". route entry not found.`);
  }

  const tokenHash = entry?.id ?? '';
  const audited = deps.audit.enabled;
  if (audited) await deps.audit.log({ type: 'request', requestId: id, operation, path, clientTokenHash: tokenHash });
  try {
    const response = await backend.handle({ ...base, operation });
    if (audited) await deps.audit.log({ type: 'response', requestId: id, operation, path, clientTokenHash: tokenHash });
    return { response, mountType: routed.mounted.entry.type };
  } catch (e) {
    if (audited) await deps.audit.log({ type: 'response', requestId: id, operation, path, clientTokenHash: tokenHash, error: e instanceof CofferError ? e.message : 'internal error' });
    throw e;
  } finally {
    // Only a token whose last use this request spent has anything left to do.
    if (entry && entry.numUses === -1) await deps.tokens.afterUse(entry);
  }
}

const nullView = {
  get: async () => null,
  put: async () => {
    throw new CofferError('internal', 'no storage for this request');
  },
  delete: async () => {},
  list: async () => [],
};
