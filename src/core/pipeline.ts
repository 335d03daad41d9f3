import { randomUUID } from 'node:crypto';
import type { Backend } from '../framework/index.js';
import {
  CofferError, NO_CONNECTION, permissionDenied, type AuthGrant, type AuthResult, type BackendRequest, type CallerIdentity, type ConnectionInfo,
  type LeaseInfo, type LogicalResponse, type Operation, type SecretLease, type StorageView, type SystemView, type WrapInfo,
  badRequest,
} from '../logical/index.js';
import { CidrSet } from '../util/index.js';
import type { AuditBroker, AuditDevice } from './audit/broker.js';
import type { AuditedHeader, AuditMount, AuditRequest, AuditResponse } from './audit/format.js';
import type { MountTokenType } from './mounts/index.js';
import { QuotaRefusal, type QuotaManager, type QuotaPass } from './quotas/quotas.js';
import type { Telemetry } from './telemetry/telemetry.js';
import { INVALID_WRAPPING_TOKEN, WRAPPING_TOKEN_PATHS, isWrappingToken, type WrappedResponse } from './wrapping/wrapping.js';
import { allowOperation, type Acl, type PolicyStore } from './policy/index.js';
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
  /** The client's connection; in-process requests have none. */
  readonly connection?: ConnectionInfo;
  /** X-Vault-Wrap-TTL in seconds: answer with a wrapping token instead of the response. */
  readonly wrapTtl?: number;
  /** The request's HTTP headers (names in lower case), for the ones an operator chose to audit. */
  readonly headers?: RequestHeaders;
  /** The body as sent, for paths that take a file, not JSON (never audited). */
  readonly body?: Uint8Array;
}

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A handled request: the backend's answer and the type of the mount that gave it. */
export interface Handled {
  readonly response: LogicalResponse | null;
  readonly mountType: string;
  /** HTTP headers for the answer (a rate limit's X-Ratelimit-*, when enabled). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Where a path is served: the backend of its mount and the path relative to the mount. */
export interface Route {
  readonly backend: Backend;
  readonly view: StorageView;
  /** The mount's request path prefix ("secret/"). */
  readonly prefix: string;
  readonly mountType: string;
  readonly relative: string;
  /** The mount's TTLs, logger and clock. */
  readonly system: SystemView;
  /** The mount's accessor. */
  readonly accessor: string;
  /** An auth mount's tuned token_type, if any. */
  readonly tokenType: MountTokenType | undefined;
  /** The mount as audit entries name it. */
  readonly audit: AuditMount;
}

export interface PipelineDeps {
  /** The route for a path, or null if no mount serves it. Throws `sealed` for what is not served while sealed. */
  readonly route: (path: string) => Route | null;
  readonly tokens: TokenStore;
  readonly policies: PolicyStore;
  readonly audit: AuditBroker;
  readonly telemetry: Telemetry;
  /** The headers of a request that its audit entries record. */
  readonly auditedHeaders: (headers: RequestHeaders | undefined) => readonly AuditedHeader[];
  readonly isSealed: () => boolean;
  /**
   * The policies a token's request is judged by: its own and its entity's and groups'. Null when
   * its entity is disabled: then the token is refused. The same array for the same answer.
   */
  readonly requestPolicies: (entry: TokenEntry) => readonly string[] | null;
  /** The ACL of a token's policies, templated ones resolved for its entity (when the policy store has none cached). */
  readonly acl: (entry: TokenEntry, policies: readonly string[]) => Promise<Acl>;
  /** Persist the lease of a secret a backend minted; answers with the envelope's lease fields. */
  readonly registerLease: (input: { readonly path: string; readonly route: Route; readonly secret: SecretLease; readonly tokenHash: string }) => Promise<LeaseInfo>;
  /** User lockout of the logins a method names (loginAlias): refuse a locked name, count failures. */
  readonly lockout: {
    check(route: Route, alias: string): Promise<void>;
    failed(route: Route, alias: string): Promise<void>;
    succeeded(route: Route, alias: string): void;
  };
  /** Keep a response under a new wrapping token for ttl seconds; answers its wrap_info. */
  readonly wrap: (response: WrappedResponse, ttl: number, path: string) => Promise<WrapInfo>;
  /** Resource quotas: refuse (429) what a rate limit or lease count quota does not allow. */
  readonly quotas: Pick<QuotaManager, 'check'>;
  /** Mint the token a login (or token create) granted; answers with the envelope's auth block. */
  readonly issueToken: (input: { readonly path: string; readonly route: Route; readonly grant: AuthGrant; readonly caller: TokenEntry | null }) => Promise<{ auth: AuthResult; warnings: string[] }>;
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

const callers = new WeakMap<TokenEntry, CallerIdentity>();
const cidrSets = new WeakMap<readonly string[], CidrSet>();

/** True if a token bound to client addresses is used from one of them (compiled once per entry). */
function fromBoundAddress(entry: TokenEntry, address: string): boolean {
  if (entry.boundCidrs.length === 0) return true;
  let set = cidrSets.get(entry.boundCidrs);
  if (set === undefined) cidrSets.set(entry.boundCidrs, (set = new CidrSet(entry.boundCidrs)));
  return set.admits(address);
}

/** What a backend sees of the caller; one object per (immutable) token entry and set of policies. */
export function callerOf(entry: TokenEntry, policies: readonly string[]): CallerIdentity {
  let caller = callers.get(entry);
  if (caller === undefined || caller.policies !== policies) {
    caller = {
      tokenHash: entry.id,
      accessor: entry.accessor,
      policies,
      entityId: entry.entityId,
      displayName: entry.displayName,
      isRoot: entry.policies.includes('root'),
      cubbyholeId: entry.cubbyholeId,
    };
    callers.set(entry, caller);
  }
  return caller;
}

/**
 * The audit record of one request: exactly one request entry and one response entry, whether
 * the request is served, denied or fails. The request entry goes out before the backend runs;
 * a request that no audit device could record is not served.
 */
interface AuditTrail {
  request(error?: string): Promise<void>;
  response(res: AuditResponse | null, error?: string): Promise<void>;
  /** Record a request that failed: its request entry too, if it was refused before the backend. */
  failed(e: unknown): Promise<void>;
  /** The request is done: its devices may close. */
  done(): void;
}

/** What is known of a request so far: the pipeline fills it in as it goes. */
type AuditSubject = { -readonly [K in keyof AuditRequest]: AuditRequest[K] };

/** The trail while no audit device is enabled: every step passes, nothing is kept. */
const NO_TRAIL: AuditTrail = {
  request: async () => {},
  response: async () => {},
  failed: async () => {},
  done: () => {},
};

class DeviceTrail implements AuditTrail {
  readonly #subject: AuditSubject;
  readonly #broker: AuditBroker;
  readonly #telemetry: Telemetry;
  readonly #devices: readonly AuditDevice[];
  /** Each device's auth and request objects, made for the request entry and written again in the response entry. */
  readonly #parts = new Map<AuditDevice, { auth: string; request: string }>();
  #requested = false;

  constructor(broker: AuditBroker, telemetry: Telemetry, subject: AuditSubject) {
    this.#broker = broker;
    this.#telemetry = telemetry;
    this.#devices = broker.acquire();
    this.#subject = subject;
  }

  #partsOf(device: AuditDevice): { auth: string; request: string } {
    let parts = this.#parts.get(device);
    if (parts === undefined) {
      parts = { auth: device.formatter.auth(this.#subject), request: device.formatter.request(this.#subject) };
      this.#parts.set(device, parts);
    }
    return parts;
  }

  async request(error?: string): Promise<void> {
    this.#requested = true;
    const t0 = performance.now();
    try {
      await this.#broker.log(this.#devices, 'request', (d) => {
        const { auth, request } = this.#partsOf(d);
        return d.formatter.entry('request', auth, request, null, error);
      });
    } finally {
      this.#telemetry.timers.auditLogRequest.observe(performance.now() - t0);
    }
  }

  async response(res: AuditResponse | null, error?: string): Promise<void> {
    const t0 = performance.now();
    try {
      await this.#broker.log(this.#devices, 'response', (d) => {
        const { auth, request } = this.#partsOf(d);
        return d.formatter.entry('response', auth, request, d.formatter.response(this.#subject, res), error);
      });
    } finally {
      this.#telemetry.timers.auditLogResponse.observe(performance.now() - t0);
    }
  }

  async failed(e: unknown): Promise<void> {
    const error = e instanceof CofferError ? e.message : 'internal error';
    if (!this.#requested) await this.request(error);
    await this.response(null, error);
  }

  done(): void {
    this.#broker.release(this.#devices);
  }
}

/** A response as its response entry records it: a raw body (sys/health, sys/init) is its data. */
function audited(response: LogicalResponse | null): AuditResponse | null {
  if (!response) return null;
  return {
    // A file (a snapshot) is not recorded: it is all of storage.
    data: response.raw instanceof Uint8Array ? null : response.raw !== undefined ? response.raw : response.data,
    ...(response.auth ? { auth: response.auth } : {}),
    ...(response.lease ? { lease: response.lease } : {}),
    ...(response.warnings ? { warnings: response.warnings } : {}),
    ...(response.wrapInfo ? { wrapInfo: response.wrapInfo } : {}),
  };
}

/**
 * The one request pipeline, for every request (denied ones, unauthenticated sys endpoints and
 * requests while sealed included): derive the path → route → token → existence check (create
 * vs update) → ACL (capabilities, parameters, sudo) → use accounting → audit → backend. Every
 * cross-cutting security step lives here and nowhere else.
 */
export async function handleRequest(deps: PipelineDeps, req: LogicalRequest): Promise<Handled> {
  // The one place the path is derived: routing, the ACL, the audit trail and the backend all
  // see this string. A list names a folder, so (as Vault does) its path always ends in "/".
  const path = authorisedPath(req.operation, req.path);
  const id = req.id ?? randomUUID();
  // Every step below is the same with or without audit devices; without them nothing is kept.
  const connection = req.connection ?? NO_CONNECTION;
  const audit = deps.audit.enabled;
  const subject: AuditSubject = { id, operation: req.operation, path, data: req.data, token: req.token, entry: null, policies: null, mount: null, connection, headers: audit ? deps.auditedHeaders(req.headers) : [] };
  const trail = audit ? new DeviceTrail(deps.audit, deps.telemetry, subject) : NO_TRAIL;
  const t0 = performance.now();
  let route: Route | null = null;
  let login = false;
  let operation = req.operation;
  let entry: TokenEntry | null = null;
  let policies: readonly string[] | null = null;
  let quota: QuotaPass | null = null;
  try {
    route = deps.route(path);
    if (route) subject.mount = route.audit;
    const backend = route?.backend;
    const relative = route?.relative ?? '';
    const unauthenticated = backend ? matchesSpecial(backend.unauthenticatedPaths, relative) : false;
    // A login is what Vault times apart: an unauthenticated path of an auth method.
    login = unauthenticated && path.startsWith('auth/');
    // Quotas come first: a refused request costs no token lookup, no audit entry (unless asked for) and no backend.
    const role = login && typeof req.data['role'] === 'string' ? req.data['role'] : '';
    const mayLease = !path.startsWith('sys/') && (operation === 'read' || operation === 'update' || operation === 'create');
    quota = deps.quotas.check({ path, remoteAddress: connection.remoteAddress, role, mayLease });

    // Missing, unknown, expired, used-up and revoked tokens are all the same 403, whether or not
    // the path exists: nothing here may tell an attacker which case they hit.
    if (req.token !== '' && !deps.isSealed()) {
      entry = deps.tokens.lookupCached(req.token) ?? (await deps.tokens.lookup(req.token));
      // A token bound to client addresses is no token at all anywhere else.
      if (entry && !fromBoundAddress(entry, connection.remoteAddress)) entry = null;
      // Nor is the token of a disabled entity.
      if (entry) policies = deps.requestPolicies(entry);
      if (policies === null) entry = null;
      subject.entry = entry;
      subject.policies = policies;
    }
    // sys/wrapping/unwrap and rewrap take their wrapping token as the client token or in the
    // body; either way an unknown or spent one is Vault's 400, not a 403.
    const wrappingCall = route?.prefix === 'sys/' && WRAPPING_TOKEN_PATHS.includes(relative);
    if (!entry && !unauthenticated) throw wrappingCall && req.data['token'] === undefined && req.token !== '' ? badRequest(INVALID_WRAPPING_TOKEN) : permissionDenied();

    const backendRequest = (op: Operation): BackendRequest => ({
      id,
      operation: op,
      path: relative,
      data: req.data,
      mountPoint: route?.prefix ?? '',
      storage: route?.view ?? nullView,
      caller: entry && policies ? callerOf(entry, policies) : null,
      contentType: req.contentType ?? '',
      connection,
      ...(backend?.receivesClientToken && entry ? { clientToken: req.token } : {}),
      wrapTtl: req.wrapTtl ?? 0,
      ...(req.body ? { body: req.body } : {}),
    });

    if (operation === 'update' && backend) {
      const exists = await backend.exists(backendRequest(operation));
      if (exists === false) subject.operation = operation = 'create';
    }

    if (!unauthenticated && entry && policies) {
      if (isWrappingToken(entry)) {
        // A wrapping token opens sys/wrapping/unwrap and rewrap (lookup needs no token), nothing else.
        if (!wrappingCall) throw permissionDenied();
      } else {
        const acl = deps.policies.aclCached(policies) ?? (await deps.acl(entry, policies));
        const decision = allowOperation(acl, { path, operation, data: req.data });
        if (!decision.allowed) throw permissionDenied();
        if (backend && matchesSpecial(backend.sudoPaths, relative) && !decision.sudo) throw permissionDenied();
      }
      // Spend a use only once the request is allowed; null means a parallel request took the last one.
      if (entry.numUses !== 0) {
        entry = await deps.tokens.use(req.token);
        if (!entry) throw wrappingCall ? badRequest(INVALID_WRAPPING_TOKEN) : permissionDenied();
      }
    }

    if (!route || !backend) {
      throw new CofferError('unsupported_path', `no handler for route "${path}". route entry not found.`);
    }

    await trail.request();
    // Built after the ACL step: `entry` is then the entry whose use this request spent.
    const request = backendRequest(operation);
    // A login names who it claims to be before its credentials are checked: a locked name is
    // refused here, and a refused login counts against the name, whether or not it exists.
    const claimed = unauthenticated && backend.loginAlias ? backend.loginAlias(request) : null;
    if (claimed !== null) await deps.lockout.check(route, claimed);
    let response: LogicalResponse | null;
    try {
      response = await backend.handle(request);
    } catch (e) {
      if (claimed !== null && e instanceof CofferError && (e.code === 'invalid_request' || e.code === 'permission_denied')) await deps.lockout.failed(route, claimed);
      throw e;
    }
    if (claimed !== null && response?.grant) deps.lockout.succeeded(route, claimed);
    // A minted secret is in storage with its lease before anyone can see it.
    if (response?.secret) {
      const { secret, ...rest } = response;
      // A batch token is in no storage: its leases belong to its parent, or to no token at all.
      const owner = entry ? (entry.type === 'batch' ? entry.parent : entry.id) : '';
      const lease = await deps.registerLease({ path, route, secret, tokenHash: owner });
      response = { ...rest, lease };
    }
    // A login's token exists, with its entity, before its holder learns it.
    if (response?.grant) {
      const { grant, ...rest } = response;
      const { auth, warnings } = await deps.issueToken({ path, route, grant, caller: entry });
      response = { ...rest, auth, ...(warnings.length || rest.warnings ? { warnings: [...(rest.warnings ?? []), ...warnings] } : {}) };
    }
    // A wrapped response leaves the server only as a wrapping token: the response itself is
    // kept under it, to be unwrapped once. A raw body (sys/health) has no envelope to wrap.
    if (req.wrapTtl && response && response.raw === undefined) {
      const kept: WrappedResponse = {
        requestId: id,
        mountType: route.mountType,
        data: response.data ?? null,
        ...(response.auth ? { auth: response.auth } : {}),
        ...(response.lease ? { lease: response.lease } : {}),
        ...(response.warnings?.length ? { warnings: response.warnings } : {}),
      };
      response = { wrapInfo: await deps.wrap(kept, req.wrapTtl, path) };
    }
    await trail.response(audited(response));
    return { response, mountType: route.mountType, ...(quota.headers ? { headers: quota.headers } : {}) };
  } catch (e) {
    if (!(e instanceof QuotaRefusal && !e.audited)) await trail.failed(e);
    throw e;
  } finally {
    quota?.release();
    trail.done();
    const ms = performance.now() - t0;
    (login ? deps.telemetry.timers.handleLoginRequest : deps.telemetry.timers.handleRequest).observe(ms);
    if (route) deps.telemetry.route(route.prefix, operation).observe(ms);
    // Only a token whose last use this request spent still has work to do.
    if (entry && entry.numUses === -1) await deps.tokens.afterUse(entry);
  }
}

/** The storage of a request no mount serves: it holds nothing and takes nothing. */
export const nullView: StorageView = {
  get: async () => null,
  put: async () => {
    throw new CofferError('internal', 'no storage for this request');
  },
  delete: async () => {},
  list: async () => [],
  transaction: async () => {
    throw new CofferError('internal', 'no storage for this request');
  },
};
