import { randomUUID } from 'node:crypto';
import type { Core } from '../core/index.js';
import { CofferError, MSG, badRequest, type ConnectionInfo, type Operation } from '../logical/index.js';
import { parseDurationSeconds, type Logger } from '../util/index.js';
import { checkJsonLimits, type JsonLimits } from './json-limits.js';
import { envelope, errorResponse, type HttpResponse } from './wire.js';

/** A request as the server read it: body complete and within the size limit. */
export interface HttpRequest {
  readonly method: string;
  /** The request target: path and query, still percent-encoded. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
  /** The connection it came on; absent for requests made in-process. */
  readonly connection?: ConnectionInfo;
}

export interface HandlerOptions {
  readonly core: Core;
  readonly logger: Logger;
  readonly jsonLimits: JsonLimits;
  /** The listener's telemetry block: sys/metrics answers without a token (and while sealed), unaudited, as Vault's. */
  readonly unauthenticatedMetricsAccess?: boolean;
}


export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

const NO_QUERY = new URLSearchParams();
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

function header(req: HttpRequest, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
}

/**
 * Decode the path once and refuse anything ambiguous, so that the ACL and the handler see
 * exactly the same string: no "." or ".." segments, no empty segments ("//"), nothing
 * non-printable, no invalid percent-encoding.
 */
/**
 * A path that needs no decoding and holds nothing to refuse: segments of URL-safe characters,
 * none of them "." or "..", no empty segment but an optional last one. The common case,
 * answered with one regular-expression test.
 */
const PLAIN_PATH = /^(?:(?!\.\.?(?:\/|$))[A-Za-z0-9._~!$&'()*+,;=:@-]+\/)*(?:(?!\.\.?$)[A-Za-z0-9._~!$&'()*+,;=:@-]+)?$/;

export function decodePath(raw: string): string {
  if (PLAIN_PATH.test(raw)) return raw;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw badRequest('invalid path: malformed percent-encoding');
  }
  if (/[\x00-\x1f\x7f]/.test(path)) throw badRequest('invalid path: contains non-printable characters');
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.' || s === '..') throw badRequest('invalid path: "." and ".." segments are not allowed');
    if (s === '' && i !== segments.length - 1) throw badRequest('invalid path: empty path segment');
  }
  return path;
}

function operationOf(method: string, query: URLSearchParams): Operation | null {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return TRUE.has(query.get('list') ?? '') ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return null;
  }
}

/** X-Vault-Wrap-TTL: a duration ("5m") or seconds ("300"); 0 when absent. */
function wrapTtlOf(raw: string): number {
  if (raw === '') return 0;
  try {
    return parseDurationSeconds(raw, 'X-Vault-Wrap-TTL');
  } catch {
    throw badRequest('invalid X-Vault-Wrap-TTL: expected a duration such as "5m", or a number of seconds');
  }
}

function queryData(query: URLSearchParams, drop: string | null): Record<string, unknown> {
  // No prototype: a parameter named "__proto__" is data like any other.
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of new Set(query.keys())) {
    if (key === drop) continue;
    const all = query.getAll(key);
    data[key] = all.length === 1 ? all[0] : all;
  }
  return data;
}

/** Paths whose body is a file to be handed over as it is (Vault's snapshot restore). */
const FILE_BODY_PATHS = new Set(['sys/storage/raft/snapshot', 'sys/storage/raft/snapshot-force']);

export function createHandler(opts: HandlerOptions): HttpHandler {
  const { core, logger, jsonLimits } = opts;

  /** sys/metrics straight from the core's telemetry, for a listener that lets anyone read it. */
  const openMetrics = async (format: unknown): Promise<HttpResponse> => {
    const out = await core.telemetry.answer(format);
    return 'text' in out ? { status: 200, text: out.text, headers: { 'content-type': out.contentType } } : { status: 200, body: out.json };
  };

  const parseBody = (req: HttpRequest): Record<string, unknown> => {
    if (req.body.length === 0) return {};
    const tooMuch = checkJsonLimits(req.body, jsonLimits);
    if (tooMuch) throw badRequest(tooMuch);
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw badRequest('failed to parse JSON input: invalid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest('failed to parse JSON input: the body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  };

  return async (req) => {
    const requestId = randomUUID();
    const inFlight = core.inFlight.begin(requestId, req);
    try {
      const q = req.url.indexOf('?');
      const rawPath = q === -1 ? req.url : req.url.slice(0, q);
      const query = q === -1 ? NO_QUERY : new URLSearchParams(req.url.slice(q + 1));
      // Vault redirects "/" to its web UI when enabled; coffer has none yet, so it is a 404 too.
      if (!rawPath.startsWith('/v1/')) throw new CofferError('not_found', '');
      const path = decodePath(rawPath.slice(4));

      const operation = operationOf(req.method, query);
      if (!operation) throw new CofferError('unsupported_operation', MSG.unsupportedOperation);
      const wrapTtl = wrapTtlOf(header(req, 'x-vault-wrap-ttl'));
      const contentType = header(req, 'content-type').split(';')[0]!.trim().toLowerCase();
      if (operation === 'patch' && contentType !== 'application/merge-patch+json') {
        throw new CofferError('unsupported_media_type', `PATCH requires Content-Type of application/merge-patch+json, provided "${contentType.slice(0, 64)}"`);
      }
      // A snapshot to restore is a file, not JSON: it reaches its handler as sent.
      const file = operation === 'update' && FILE_BODY_PATHS.has(path) ? req.body : undefined;
      const data = file ? {} : operation === 'update' || operation === 'patch' ? parseBody(req) : queryData(query, operation === 'list' ? 'list' : null);
      if (path === 'sys/metrics' && operation === 'read') {
        // Prometheus asking for OpenMetrics gets the text format, as from Vault.
        if (data['format'] === undefined && header(req, 'accept').startsWith('application/openmetrics-text')) data['format'] = 'prometheus';
        if (opts.unauthenticatedMetricsAccess) {
          const res = await openMetrics(data['format']);
          return req.method === 'HEAD' ? { status: res.status } : res;
        }
      }

      let token = header(req, 'x-vault-token');
      if (token === '') {
        const auth = header(req, 'authorization');
        if (/^bearer /i.test(auth)) token = auth.slice(7).trim();
      }
      const handled = await core.handle({ id: requestId, operation, path, data, token, contentType, headers: req.headers, wrapTtl, ...(req.connection ? { connection: req.connection } : {}), ...(file ? { body: file } : {}) });
      const res = envelope(requestId, operation, path, handled);
      const withHeaders = handled.headers ? { ...res, headers: { ...res.headers, ...handled.headers } } : res;
      return req.method === 'HEAD' ? { status: res.status, ...(handled.headers ? { headers: handled.headers } : {}) } : withHeaders;
    } catch (e) {
      return errorResponse(e, logger, requestId);
    } finally {
      core.inFlight.end(inFlight);
    }
  };
}
