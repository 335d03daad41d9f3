import type { Handled } from '../core/index.js';
import { isCofferError, type AuthResult, type Operation } from '../logical/index.js';
import type { Logger } from '../util/index.js';

/** What the HTTP server writes: a status and an optional JSON body. */
export interface HttpResponse {
  readonly status: number;
  /** JSON-serialisable body; undefined for no body (204, HEAD). */
  readonly body?: unknown;
  /** The body already serialised as JSON (the envelope of a served request). */
  readonly json?: string;
  /** A body that is not JSON, its content type in headers. */
  readonly text?: string;
  /** A binary body (a snapshot), its content type in headers. */
  readonly bytes?: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Vault's `auth` block. */
function authBlock(a: AuthResult): Record<string, unknown> {
  return {
    client_token: a.clientToken,
    accessor: a.accessor,
    policies: a.policies,
    token_policies: a.tokenPolicies,
    identity_policies: a.identityPolicies.length ? a.identityPolicies : null,
    metadata: a.metadata,
    lease_duration: a.leaseDuration,
    renewable: a.renewable,
    entity_id: a.entityId,
    token_type: a.tokenType,
    orphan: a.orphan,
    mfa_requirement: null,
    num_uses: a.numUses,
  };
}

/**
 * The Vault response envelope. A read that found nothing is 404 with empty errors; a write
 * that returns nothing is 204. For sys/ paths the data is also copied to the top level, as
 * Vault does for older clients (sys/mounts, sys/auth, sys/policy, sys/capabilities...).
 */
export function envelope(requestId: string, operation: Operation, path: string, handled: Handled): HttpResponse {
  const res = handled.response;
  if (res?.raw !== undefined) {
    if (typeof res.raw === 'string' && res.contentType) return { status: res.httpStatus ?? 200, text: res.raw, headers: { 'content-type': res.contentType } };
    if (res.raw instanceof Uint8Array) {
      return { status: res.httpStatus ?? 200, bytes: Buffer.from(res.raw.buffer, res.raw.byteOffset, res.raw.byteLength), headers: { 'content-type': res.contentType ?? 'application/octet-stream' } };
    }
    return { status: res.httpStatus ?? 200, body: res.raw };
  }
  if (res === null) {
    return operation === 'read' || operation === 'list' ? { status: 404, body: { errors: [] } } : { status: 204 };
  }
  // A wrapped response: the wrapping token and no data, whatever the path.
  if (res.wrapInfo) {
    return {
      status: 200,
      body: { request_id: requestId, lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: res.wrapInfo, warnings: res.warnings?.length ? res.warnings : null, auth: null, mount_type: '' },
    };
  }
  const empty = (res.data === undefined || res.data === null) && !res.auth && !res.warnings?.length && !res.lease;
  if (empty && !res.httpStatus) return { status: 204 };
  if (path.startsWith('sys/') && res.data && !res.unwrapped) {
    const body: Record<string, unknown> = { ...res.data };
    Object.assign(body, {
      request_id: requestId,
      lease_id: res.lease?.id ?? '',
      renewable: res.lease?.renewable ?? false,
      lease_duration: res.lease?.duration ?? 0,
      data: res.data,
      wrap_info: null,
      warnings: res.warnings?.length ? res.warnings : null,
      auth: res.auth ? authBlock(res.auth) : null,
      mount_type: handled.mountType,
    });
    return { status: res.httpStatus ?? 200, body };
  }
  // The envelope written out directly (the same keys, in the same order, as the object above):
  // this is the read path, and one JSON.stringify of the data alone is all it costs.
  const json =
    `{"request_id":"${res.unwrapped?.requestId ?? requestId}","lease_id":${res.lease ? JSON.stringify(res.lease.id) : '""'},"renewable":${res.lease?.renewable ?? false},"lease_duration":${res.lease?.duration ?? 0}` +
    `,"data":${res.data ? dataJson(res.data) : 'null'},"wrap_info":null` +
    `,"warnings":${res.warnings?.length ? JSON.stringify(res.warnings) : 'null'}` +
    `,"auth":${res.auth ? JSON.stringify(authBlock(res.auth)) : 'null'},"mount_type":${JSON.stringify(res.unwrapped?.mountType ?? handled.mountType)}}`;
  return { status: res.httpStatus ?? 200, json };
}

/** JSON of frozen data, which cannot change, is kept while the data lives (a KV read's body). */
const frozenJson = new WeakMap<object, string>();
function dataJson(data: Record<string, unknown>): string {
  if (!Object.isFrozen(data)) return JSON.stringify(data);
  let json = frozenJson.get(data);
  if (json === undefined) frozenJson.set(data, (json = JSON.stringify(data)));
  return json;
}

/** The one place an error becomes `{"errors": [...]}`. Unknown errors never show their message. */
export function errorResponse(e: unknown, logger: Logger, requestId: string): HttpResponse {
  if (isCofferError(e)) {
    const messages = e.code === 'not_found' && e.message === '' ? [] : [e.message, ...e.details];
    return { status: e.httpStatus, body: { errors: messages }, ...(e.headers ? { headers: e.headers } : {}) };
  }
  // A SyntaxError's message can quote the text it failed on (decrypted data): never log it.
  const detail = e instanceof SyntaxError ? 'SyntaxError' : e instanceof Error ? `${e.name}: ${e.message}` : typeof e;
  logger.error('internal error', { request_id: requestId, error: detail });
  return { status: 500, body: { errors: ['internal error'] } };
}
