import http from 'node:http';
import https from 'node:https';

/** One outbound HTTP(S) call, as an auth method makes them to an identity provider or API server. */
export interface OutboundRequest {
  readonly url: string | URL;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON value (sent as application/json) or a form (URLSearchParams, sent form-encoded). */
  readonly body?: unknown;
  /** PEM of the CAs to trust for https; the system's when "" or absent. */
  readonly caPem?: string;
  readonly timeoutMs?: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** Raised when the far side cannot be reached, times out, or answers too much. Its message names no secret. */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
}

const MAX_BODY = 1 << 20;

/** Send one request and read the whole answer (at most 1 MiB). Redirects are not followed. */
export function send(req: OutboundRequest): Promise<OutboundResponse> {
  const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return Promise.reject(new OutboundError(`unsupported URL scheme "${url.protocol}"`));
  let payload: Buffer | null = null;
  let type = '';
  if (req.body instanceof URLSearchParams) {
    payload = Buffer.from(req.body.toString());
    type = 'application/x-www-form-urlencoded';
  } else if (req.body !== undefined) {
    payload = Buffer.from(JSON.stringify(req.body));
    type = 'application/json';
  }
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = mod.request(
      url,
      {
        method: req.method ?? (payload ? 'POST' : 'GET'),
        headers: { accept: 'application/json', ...(payload ? { 'content-type': type, 'content-length': String(payload.length) } : {}), ...req.headers },
        ...(url.protocol === 'https:' && req.caPem ? { ca: req.caPem } : {}),
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) res.destroy(new OutboundError(`${url.host} answered with more than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('error', (e) => reject(e instanceof OutboundError ? e : new OutboundError(`reading the answer of ${url.host} failed`)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    r.on('timeout', () => r.destroy(new OutboundError(`${url.host} did not answer in time`)));
    r.on('error', (e) => reject(e instanceof OutboundError ? e : new OutboundError(`${url.host} could not be reached`)));
    r.end(payload ?? undefined);
  });
}

/** Send one request and parse its answer as JSON; an answer that is not JSON is an OutboundError. */
export async function sendJson(req: OutboundRequest): Promise<{ status: number; body: unknown }> {
  const res = await send(req);
  try {
    return { status: res.status, body: res.text === '' ? null : (JSON.parse(res.text) as unknown) };
  } catch {
    throw new OutboundError(`${new URL(req.url).host} answered with something that is not JSON (HTTP ${res.status})`);
  }
}
