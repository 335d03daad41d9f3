import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../util/logger.js';
import type { HttpHandler } from './handler.js';
import { ListMethodSocket } from './list-method.js';
import type { HttpResponse } from './wire.js';

export interface ListenerConfig {
  /** host:port, "[v6]:port" or ":port". */
  readonly address: string;
  readonly tls: null | { readonly certFile: string; readonly keyFile: string; readonly minVersion: 'TLSv1.2' | 'TLSv1.3' };
  /** Largest request body in bytes; larger ones get 413 while being read. */
  readonly maxRequestSize: number;
  /** Time to receive the request head (Vault: http_read_header_timeout, 10s). */
  readonly headerTimeoutMs: number;
  /** Time to receive the whole request (Vault: http_read_timeout, 30s). */
  readonly readTimeoutMs: number;
  /** Time an idle keep-alive connection stays open (Vault: http_idle_timeout, 5m). */
  readonly idleTimeoutMs: number;
}

export interface RunningListener {
  readonly address: string;
  readonly port: number;
  /** Stop accepting, let in-flight requests finish (up to graceMs), then close every connection. */
  close(graceMs?: number): Promise<void>;
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`invalid listener address "${address}": expected host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid listener address "${address}": port out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const BASE_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

function send(res: http.ServerResponse, out: HttpResponse): void {
  const body = out.body === undefined ? undefined : JSON.stringify(out.body);
  const headers: Record<string, string | number> = { ...BASE_HEADERS, ...out.headers };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(out.status, headers);
  res.end(body);
}

/** Start one listener. Each connection is read through the LIST-method shim. */
export async function startListener(cfg: ListenerConfig, handler: HttpHandler, logger: Logger): Promise<RunningListener> {
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | null = null;
  const connectionTails = new WeakMap<object, Promise<void>>();

  const server = http.createServer(
    {
      maxHeaderSize: 16 * 1024,
      // Header and request timeouts are enforced by ListMethodSocket: Node's own checks only
      // run on servers that listen themselves, and this one is handed its connections.
      keepAliveTimeout: cfg.idleTimeoutMs,
      noDelay: true,
    },
    (req, res) => {
      inFlight++;
      res.on('close', () => {
        inFlight--;
        if (closing && inFlight === 0) drained?.();
      });
      if (closing) res.shouldKeepAlive = false;
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > cfg.maxRequestSize) {
        res.shouldKeepAlive = false;
        send(res, { status: 413, body: { errors: ['http: request body too large'] } });
        req.socket.destroySoon?.();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let rejected = false;
      req.on('data', (chunk: Buffer) => {
        if (rejected) return;
        size += chunk.length;
        if (size > cfg.maxRequestSize) {
          // Enforced while reading: chunked bodies have no Content-Length to check up front.
          rejected = true;
          res.shouldKeepAlive = false;
          send(res, { status: 413, body: { errors: ['http: request body too large'] } });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (rejected) return;
        // Pipelined requests on one connection run one after another, as in Go's server: a
        // write must be visible to the request behind it (RFC 9112 §9.3.2 only allows
        // parallel processing of safe methods).
        const previous = connectionTails.get(req.socket) ?? Promise.resolve();
        const done = previous
          .then(() => handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks, size) }))
          .then((out) => send(res, out))
          .catch((e: unknown) => {
            logger.error('request failed outside the handler', { error: e instanceof Error ? e.name : typeof e });
            if (!res.headersSent) send(res, { status: 500, body: { errors: ['internal error'] } });
          });
        connectionTails.set(req.socket, done);
      });
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ errors: [http.STATUS_CODES[status] ?? 'bad request'] });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });

  // Node's own connection tracking (closeIdleConnections and friends) only starts on servers
  // that listen themselves; this one is handed its connections, so it tracks them here.
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket, encrypted: boolean) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    server.emit('connection', new ListMethodSocket(socket, encrypted, { headerMs: cfg.headerTimeoutMs, requestMs: cfg.readTimeoutMs }));
  };
  let listener: net.Server;
  if (cfg.tls) {
    listener = tls.createServer(
      { cert: readFileSync(cfg.tls.certFile), key: readFileSync(cfg.tls.keyFile), minVersion: cfg.tls.minVersion },
      (s) => accept(s, true),
    );
    listener.on('tlsClientError', () => {});
  } else {
    listener = net.createServer((s) => accept(s, false));
  }
  const { host, port } = parseAddress(cfg.address);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const bound = listener.address() as net.AddressInfo;
  logger.info('listening', { address: `${bound.address}:${bound.port}`, tls: cfg.tls !== null });

  return {
    address: bound.address,
    port: bound.port,
    async close(graceMs = 30_000) {
      closing = true;
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
      }
      // Every response that was in flight has been written; idle keep-alive connections go now.
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}
