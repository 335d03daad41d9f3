import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the CLI connects and as whom: COFFER_* first, then the VAULT_* variables Vault users have. */
export interface ClientConfig {
  readonly address: string;
  readonly token: string;
  readonly caCert: string;
  readonly skipVerify: boolean;
  /** -wrap-ttl (COFFER_WRAP_TTL, VAULT_WRAP_TTL): ask for every response wrapped; "" for none. */
  readonly wrapTtl?: string;
}

export const TOKEN_FILE = join(homedir(), '.coffer-token');

export function env(name: string): string {
  return process.env[`COFFER_${name}`] ?? process.env[`VAULT_${name}`] ?? '';
}

/** Store the CLI's token, readable by its owner only. */
export function writeTokenFile(token: string): void {
  writeFileSync(TOKEN_FILE, token, { mode: 0o600 });
  chmodSync(TOKEN_FILE, 0o600); // a file that already existed keeps its old mode otherwise
}

export function readTokenFile(): string {
  try {
    return readFileSync(TOKEN_FILE, 'utf8').trim();
  } catch {
    return '';
  }
}

export interface ApiResponse {
  readonly status: number;
  /** Parsed JSON body, or null for an empty body. */
  readonly body: Record<string, unknown> | null;
}

/** An API error: the HTTP status and the server's errors array. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    readonly method: string,
    readonly url: string,
    /** The parsed body, when there was one. */
    readonly body: Record<string, unknown> | null = null,
  ) {
    super(`Error making API request.\n\nURL: ${method} ${url}\nCode: ${status}. Errors:\n\n${errors.map((e) => `* ${e}`).join('\n')}`);
  }
}

export class Client {
  constructor(readonly config: ClientConfig) {}

  /** Send a request; 2xx answers resolve, anything else rejects with ApiError (404 reads resolve with status). */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, opts: { wrap?: boolean } = {}): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await this.#send(method, path, payload, { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...headers }, opts.wrap !== false);
    return { status: res.status, body: this.#json(res, method) };
  }

  /**
   * Send or fetch a file (a snapshot): the body goes as it is, and a 2xx answer's bytes come back
   * as they are. `progress` hears the bytes moved so far as they move.
   */
  async transfer(method: string, path: string, file: Buffer | undefined, progress: (bytes: number) => void = () => {}): Promise<Buffer> {
    const res = await this.#send(method, path, file, file ? { 'Content-Type': 'application/octet-stream' } : {}, false, progress);
    if (res.status >= 400) this.#json(res, method);
    return res.bytes;
  }

  /** The JSON of an answer; an answer of 400 or more is thrown as an ApiError. */
  #json(res: { status: number; bytes: Buffer; url: string }, method: string): Record<string, unknown> | null {
    const text = res.bytes.toString('utf8');
    let parsed: Record<string, unknown> | null = null;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new ApiError(res.status, [text.slice(0, 200)], method, res.url);
      }
    }
    if (res.status >= 400) {
      const errs = Array.isArray(parsed?.['errors']) ? (parsed['errors'] as unknown[]).map(String) : [];
      throw new ApiError(res.status, errs, method, res.url, parsed);
    }
    return parsed;
  }

  #send(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>, wrap: boolean, progress?: (bytes: number) => void): Promise<{ status: number; bytes: Buffer; url: string }> {
    const url = new URL(`/v1/${path.replace(/^\/+/, '')}`, this.config.address);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          headers: {
            ...(this.config.token ? { 'X-Vault-Token': this.config.token } : {}),
            'X-Vault-Request': 'true',
            ...(payload ? { 'Content-Length': String(payload.length) } : {}),
            ...(this.config.wrapTtl && wrap ? { 'X-Vault-Wrap-TTL': this.config.wrapTtl } : {}),
            ...headers,
          },
          ...(url.protocol === 'https:'
            ? { rejectUnauthorized: !this.config.skipVerify, ...(this.config.caCert ? { ca: readFileSync(this.config.caCert) } : {}) }
            : {}),
        },
        (r) => {
          const chunks: Buffer[] = [];
          let received = 0;
          r.on('data', (c: Buffer) => {
            chunks.push(c);
            received += c.length;
            if (!payload) progress?.(received);
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, bytes: Buffer.concat(chunks), url: url.toString() }));
          r.on('error', reject);
        },
      );
      req.on('error', reject);
      if (!payload) {
        req.end();
        return;
      }
      // Sent in pieces, so the caller can tell how far an upload has got.
      const PIECE = 1024 * 1024;
      let sent = 0;
      const next = (): void => {
        while (sent < payload.length) {
          const piece = payload.subarray(sent, sent + PIECE);
          sent += piece.length;
          const more = req.write(piece);
          progress?.(sent);
          if (!more) {
            req.once('drain', next);
            return;
          }
        }
        req.end();
      };
      next();
    });
  }

  /**
   * GET that answers null on 404, as `vault read` treats a missing secret, unless the 404 carries
   * data or warnings (a deleted KV version answers with its metadata), as Vault's client does.
   */
  async read(path: string, query = ''): Promise<Record<string, unknown> | null> {
    try {
      return (await this.request('GET', path + query)).body;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.errors.length === 0) {
        const b = e.body;
        const warnings = b?.['warnings'];
        const data = b?.['data'];
        const hasData = typeof data === 'object' && data !== null && Object.keys(data).length > 0;
        return hasData || (Array.isArray(warnings) && warnings.length > 0) ? b : null;
      }
      throw e;
    }
  }

  async list(path: string): Promise<Record<string, unknown> | null> {
    try {
      return (await this.request('LIST', path)).body;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.errors.length === 0) return null;
      throw e;
    }
  }

  write(path: string, data: unknown): Promise<ApiResponse> {
    return this.request('PUT', path, data);
  }

  delete(path: string): Promise<ApiResponse> {
    return this.request('DELETE', path);
  }
}
