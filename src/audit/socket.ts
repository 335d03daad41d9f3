import dgram from 'node:dgram';
import net from 'node:net';
import { badRequest, type AuditSink, type AuditSinkType } from '../logical/index.js';
import { parseDurationSeconds } from '../util/index.js';

/** Split "host:port" ("[::1]:9090" for IPv6); null if it is not that. */
export function hostPort(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65_535) return null;
  return { host: m[1] ?? m[2]!, port };
}

function withTimeout<T>(ms: number, what: string, run: (settle: (e?: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => settle(new Error(`${what} timed out`)), ms);
    function settle(e?: Error | null, v?: T): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(v as T);
    }
    run(settle);
  });
}

/**
 * A stream connection (TCP or a Unix socket) that each entry is written to, newline-terminated.
 * A write that fails drops the connection and is tried once more on a new one, as Vault does;
 * each try is bounded by write_timeout.
 */
class StreamSink implements AuditSink {
  readonly #connect: () => net.Socket;
  readonly #timeoutMs: number;
  #socket: net.Socket | null = null;
  #connecting: Promise<net.Socket> | null = null;

  constructor(connect: () => net.Socket, timeoutMs: number) {
    this.#connect = connect;
    this.#timeoutMs = timeoutMs;
  }

  async write(entry: string): Promise<void> {
    try {
      await this.#writeOnce(entry);
    } catch {
      this.#drop();
      await this.#writeOnce(entry);
    }
  }

  async reopen(): Promise<void> {
    this.#drop();
    await this.#connected();
  }

  async close(): Promise<void> {
    const s = this.#socket;
    this.#socket = null;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
  }

  async #writeOnce(entry: string): Promise<void> {
    const socket = await this.#connected();
    await withTimeout<void>(this.#timeoutMs, 'audit socket write', (settle) => socket.write(`${entry}\n`, (e) => settle(e ?? null)));
  }

  #connected(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    this.#connecting ??= withTimeout<net.Socket>(this.#timeoutMs, 'audit socket connection', (settle) => {
      const s = this.#connect();
      s.once('connect', () => {
        s.removeAllListeners('error');
        // A later error (the peer went away) only drops the connection; the next write reconnects.
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (this.#socket === s) this.#socket = null;
        });
        this.#socket = s;
        settle(null, s);
      });
      s.once('error', (e) => {
        s.destroy();
        settle(e);
      });
      // What the peer sends is of no interest; reading it keeps the socket from stalling.
      s.resume();
    }).finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #drop(): void {
    this.#socket?.destroy();
    this.#socket = null;
  }
}

/** One datagram per entry to a UDP address. */
class UdpSink implements AuditSink {
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  #socket: dgram.Socket;

  constructor(host: string, port: number, timeoutMs: number) {
    this.#host = host;
    this.#port = port;
    this.#timeoutMs = timeoutMs;
    this.#socket = this.#newSocket();
  }

  write(entry: string): Promise<void> {
    return withTimeout<void>(this.#timeoutMs, 'audit socket write', (settle) => this.#socket.send(`${entry}\n`, this.#port, this.#host, (e) => settle(e ?? null)));
  }

  async reopen(): Promise<void> {
    this.#socket.close();
    this.#socket = this.#newSocket();
  }

  async close(): Promise<void> {
    this.#socket.close();
  }

  #newSocket(): dgram.Socket {
    const s = dgram.createSocket(net.isIPv6(this.#host) ? 'udp6' : 'udp4');
    s.on('error', () => {});
    s.unref();
    return s;
  }
}

/** Vault's `socket` device: address, socket_type (tcp, udp or unix), write_timeout (default 2s). */
export const socketSinkType: AuditSinkType = {
  options: ['address', 'socket_type', 'write_timeout'],
  async create(options) {
    const address = options['address'] ?? '';
    if (address === '') throw badRequest('address is required');
    const type = options['socket_type'] || 'tcp';
    let timeoutMs = 2000;
    if (options['write_timeout']) {
      let seconds: number;
      try {
        seconds = parseDurationSeconds(options['write_timeout'], 'write_timeout');
      } catch {
        throw badRequest('invalid write_timeout: expected a duration such as "2s"');
      }
      if (seconds < 1) throw badRequest('invalid write_timeout: it must be at least one second');
      timeoutMs = seconds * 1000;
    }
    let sink: AuditSink;
    if (type === 'unix') {
      sink = new StreamSink(() => net.createConnection({ path: address }), timeoutMs);
    } else if (type === 'tcp' || type === 'udp') {
      const target = hostPort(address);
      if (!target) throw badRequest('invalid address: expected host:port');
      sink = type === 'udp' ? new UdpSink(target.host, target.port, timeoutMs) : new StreamSink(() => net.createConnection({ host: target.host, port: target.port }), timeoutMs);
    } else {
      throw badRequest('invalid socket_type: expected "tcp", "udp" or "unix"');
    }
    // As the file device opens its file: a device that cannot reach its peer is not enabled.
    try {
      await sink.reopen();
    } catch (e) {
      await sink.close().catch(() => {});
      throw badRequest(`failed to connect to the audit socket at ${address}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return sink;
  },
};
