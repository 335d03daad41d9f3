import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../util/index.js';
import type { HttpHandler } from './handler.js';
import { Http1Connection, type ParsedRequest, type Reply } from './http1.js';
import { secureContextOptions } from './tls-options.js';
import { errorResponse, type HttpResponse } from './wire.js';
import type { CofferError, ConnectionInfo } from '../logical/index.js';
import { clientAddress } from '../util/index.js';

/** Who is at the other end of a connection: its address and, over TLS, the certificates it presented. */
function connectionInfo(socket: net.Socket): ConnectionInfo {
  const peerCertificates: Uint8Array[] = [];
  if (socket instanceof tls.TLSSocket) {
    // The chain as the client sent it, leaf first; the cert auth method verifies it itself.
    let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
    const seen = new Set<string>();
    while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
      seen.add(cert.fingerprint256);
      peerCertificates.push(new Uint8Array(cert.raw));
      cert = cert.issuerCertificate;
    }
  }
  return { remoteAddress: clientAddress(socket.remoteAddress), remotePort: socket.remotePort ?? 0, peerCertificates };
}

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** tls_max_version (default TLSv1.3). */
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** tls_cipher_suites as an OpenSSL cipher list for TLS 1.2; "" or absent for OpenSSL's defaults. */
  readonly ciphers?: string;
  /**
   * Client certificates, as Vault's listener treats them: asked for but optional ("request", the
   * default, so the cert auth method can log clients in), never asked for (tls_disable_client_certs),
   * or required and verified against clientCaFile (tls_require_and_verify_client_cert).
   */
  readonly clientCerts: 'request' | 'none' | 'require';
  /** PEM CAs client certificates must chain to under "require"; the system's when "". */
  readonly clientCaFile: string;
}

export interface ListenerConfig {
  /** host:port, "[v6]:port" or ":port". */
  readonly address: string;
  readonly tls: null | TlsSettings;
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
  /**
   * Read the certificate and key files again (SIGHUP): new connections get them, open ones keep
   * what they have. Throws, keeping the old ones, when the files cannot be read or do not match.
   */
  reloadTls(): void;
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`invalid listener address "${address}": expected host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid listener address "${address}": port out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store' });
const NO_BODY_HEADERS = Object.freeze({ 'cache-control': 'no-store' });

/** An HttpResponse as bytes to send. */
export function toReply(out: HttpResponse): Reply {
  const body = out.bytes ?? out.text ?? out.json ?? (out.body === undefined ? null : JSON.stringify(out.body));
  const base = body === null ? NO_BODY_HEADERS : JSON_HEADERS;
  return { status: out.status, headers: out.headers ? { ...base, ...out.headers } : base, body };
}

/** Go's answer (and so Vault's) to plain HTTP arriving at a TLS listener, written in the clear. */
const PLAIN_HTTP_REPLY = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/**
 * A client that speaks plain HTTP to a TLS listener gets a readable answer instead of a reset.
 * OpenSSL recognises the request (ERR_SSL_HTTP_REQUEST); the answer goes out on the connection
 * underneath the TLS socket, found by its address and port (the TLS socket wraps it).
 */
function answerPlainHttp(server: tls.Server): void {
  const raw = new Map<string, net.Socket>();
  const key = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
  server.on('connection', (socket: net.Socket) => {
    const k = key(socket);
    raw.set(k, socket);
    socket.once('close', () => raw.delete(k));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => raw.delete(key(socket)));
  server.on('tlsClientError', (e: Error & { code?: string }, socket: tls.TLSSocket) => {
    const underlying = raw.get(key(socket));
    if (e.code === 'ERR_SSL_HTTP_REQUEST' && underlying && !underlying.destroyed) underlying.end(PLAIN_HTTP_REPLY);
    else socket.destroy();
  });
}

/** Start one listener, plain or TLS; each connection is served by an Http1Connection. */
export async function startListener(cfg: ListenerConfig, handler: HttpHandler, logger: Logger): Promise<RunningListener> {
  const connections = new Set<Http1Connection>();
  const limits = {
    maxHeadBytes: 16 * 1024,
    maxHeaders: 100,
    maxBodyBytes: cfg.maxRequestSize,
    headerTimeoutMs: cfg.headerTimeoutMs,
    requestTimeoutMs: cfg.readTimeoutMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
  };
  // Protocol errors get their status from the one error table, like every other error.
  const onError = (e: CofferError): Reply => toReply(errorResponse(e, logger, ''));
  const accept = (socket: net.Socket) => {
    let connection: ConnectionInfo | null = null;
    const serve = async (req: ParsedRequest): Promise<Reply> => {
      connection ??= connectionInfo(socket);
      return toReply(await handler({ method: req.method, url: req.url, headers: req.headers, body: req.body, connection }));
    };
    const conn = new Http1Connection(socket, limits, serve, onError);
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  };

  let listener: net.Server;
  let reloadTls = (): void => {};
  if (cfg.tls) {
    const t = cfg.tls;
    const clientAuth: tls.TlsOptions =
      t.clientCerts === 'none' ? {} : t.clientCerts === 'request' ? { requestCert: true, rejectUnauthorized: false } : { requestCert: true, rejectUnauthorized: true };
    const files = { certFile: t.certFile, keyFile: t.keyFile, minVersion: t.minVersion, maxVersion: t.maxVersion ?? 'TLSv1.3', ciphers: t.ciphers ?? '', clientCaFile: t.clientCaFile, verifyClients: t.clientCerts === 'require' };
    const tlsListener = tls.createServer({ ...secureContextOptions(files), ...clientAuth }, accept);
    answerPlainHttp(tlsListener);
    listener = tlsListener;
    reloadTls = () => {
      // Built first: a context that cannot be made (a missing file, a key that is not the
      // certificate's) throws here and the listener keeps serving the old one.
      const options = secureContextOptions(files);
      tls.createSecureContext(options);
      tlsListener.setSecureContext(options);
    };
  } else {
    listener = net.createServer(accept);
  }
  const { host, port } = parseAddress(cfg.address);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  // One sweep enforces every connection's header, request and idle timeouts.
  const sweepEvery = Math.max(50, Math.min(1000, Math.min(cfg.headerTimeoutMs, cfg.readTimeoutMs) / 4));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const c of connections) c.expire(now);
  }, sweepEvery);
  sweeper.unref();
  const bound = listener.address() as net.AddressInfo;
  logger.info('listening', { address: `${bound.address}:${bound.port}`, tls: cfg.tls !== null });

  return {
    address: bound.address,
    port: bound.port,
    reloadTls: () => reloadTls(),
    async close(graceMs = 30_000) {
      clearInterval(sweeper);
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
      const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
      // Each connection finishes the request it is answering, then closes; idle ones close now.
      await Promise.race([Promise.all([...connections].map((c) => c.close())), grace]);
      await Promise.race([stopped, new Promise<void>((r) => setTimeout(r, 1500).unref())]);
    },
  };
}
