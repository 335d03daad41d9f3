import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { DEV_MOUNTS, composeCore } from '../compose.js';
import type { Core } from '../core/index.js';
import { InmemStorage, type StorageBackend } from '../storage/index.js';
import { type Logger, silentLogger, systemClock } from '../util/index.js';
import { createHandler } from './handler.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './json-limits.js';
import { startListener, type ListenerConfig, type RunningListener } from './server.js';

export interface TestServer {
  readonly core: Core;
  readonly listener: RunningListener;
  readonly url: string;
  readonly port: number;
  /** Set when started with `unsealed: true`. */
  readonly rootToken: string;
  /** The one unseal key share (hex), when started with `unsealed: true`. */
  readonly unsealKey: string;
  fetch(path: string, init?: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: Record<string, unknown> | null }>;
  close(): Promise<void>;
}

/** A core behind a real listener on an ephemeral loopback port. */
export async function startTestServer(opts: {
  storage?: StorageBackend;
  unsealed?: boolean;
  listener?: Partial<ListenerConfig>;
  jsonLimits?: JsonLimits;
  logger?: Logger;
  /** The listener's telemetry block: sys/metrics without a token. */
  unauthenticatedMetricsAccess?: boolean;
} = {}): Promise<TestServer> {
  const storage = opts.storage ?? new InmemStorage();
  const core = composeCore({
    storage,
    storageType: 'inmem',
    clock: systemClock,
    logger: opts.logger ?? silentLogger,
    defaultLeaseTtl: 768 * 3600,
    maxLeaseTtl: 768 * 3600,
    plaintextCacheSize: 1024,
  });
  let rootToken = '';
  let unsealKey = '';
  if (opts.unsealed) {
    const init = await core.initialize({ secretShares: 1, secretThreshold: 1 }, DEV_MOUNTS);
    unsealKey = Buffer.from(init.keys[0]!).toString('hex');
    await core.unseal(init.keys[0]!);
    rootToken = init.rootToken;
  }
  const listener = await startListener(
    {
      address: '127.0.0.1:0',
      tls: null,
      maxRequestSize: 32 * 1024 * 1024,
      headerTimeoutMs: 10_000,
      readTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      ...opts.listener,
    },
    createHandler({ core, logger: opts.logger ?? silentLogger, jsonLimits: opts.jsonLimits ?? DEFAULT_JSON_LIMITS, unauthenticatedMetricsAccess: opts.unauthenticatedMetricsAccess ?? false }),
    silentLogger,
  );
  const url = `http://127.0.0.1:${listener.port}`;
  return {
    core,
    listener,
    url,
    port: listener.port,
    rootToken,
    unsealKey,
    async fetch(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token ?? rootToken;
      if (token) headers['X-Vault-Token'] = token;
      const res = await fetch(`${url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers,
        ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
    },
    async close() {
      await listener.close(1000);
      await storage.close();
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Send raw bytes on one connection and collect the responses until the server closes it or
 * `expect` responses have arrived. For testing framing, LIST and keep-alive without a client
 * library in the way.
 */
export function rawExchange(port: number, payload: string | Buffer | (string | Buffer)[], opts: { expect?: number; tls?: boolean; timeoutMs?: number; gapMs?: number; readDelayMs?: number } = {}): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = opts.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    const timer = setTimeout(() => finish(), opts.timeoutMs ?? 5000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(responses);
    };
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(head[0]!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        const len = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + len) return;
        responses.push({ status, headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
        buf = buf.subarray(end + 4 + len);
        if (opts.expect !== undefined && responses.length >= opts.expect) return finish();
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e) => (responses.length ? finish() : reject(e)));
    const pieces = Array.isArray(payload) ? payload : [payload];
    const send = (i: number) => {
      if (i >= pieces.length || socket.destroyed) return;
      socket.write(pieces[i]!);
      if (opts.gapMs) setTimeout(() => send(i + 1), opts.gapMs);
      else send(i + 1);
    };
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      if (opts.readDelayMs) {
        // A slow reader: nothing is read until the delay is over, so replies back up.
        socket.pause();
        setTimeout(() => socket.resume(), opts.readDelayMs);
      }
      send(0);
    });
  });
}
