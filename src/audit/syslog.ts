import fs from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { badRequest, type AuditSink, type AuditSinkType } from '../logical/index.js';

/** Where the local syslog daemon listens, in the order Go's log/syslog (and so Vault) tries them. */
export const SYSLOG_SOCKETS = ['/dev/log', '/var/run/syslog', '/var/run/log'];

const FACILITIES: Readonly<Record<string, number>> = {
  KERN: 0, USER: 1, MAIL: 2, DAEMON: 3, AUTH: 4, SYSLOG: 5, LPR: 6, NEWS: 7, UUCP: 8, CRON: 9, AUTHPRIV: 10, FTP: 11,
  LOCAL0: 16, LOCAL1: 17, LOCAL2: 18, LOCAL3: 19, LOCAL4: 20, LOCAL5: 21, LOCAL6: 22, LOCAL7: 23,
};
/** Severity of every audit entry: informational. */
const SEVERITY_INFO = 6;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** How long a datagram may wait for room in a congested socket before its write fails. */
const CONGESTION_MS = 2000;

/** The BSD syslog timestamp ("Dec  3 09:14:07"), local time, as the local daemons expect. */
function stamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

interface Transport {
  send(message: string): Promise<void>;
  close(): void;
}

/** The datagram socket most syslog daemons (rsyslog, syslog-ng, journald) listen on. */
function datagram(path: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket: UnixDgramSocket = createSocket('unix_dgram');
    const fail = (e: Error) => {
      socket.close();
      reject(e);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.removeListener('error', fail);
      socket.on('error', () => {});
      resolve({
        send: (message) =>
          new Promise<void>((ok, ko) => {
            const buf = Buffer.from(message, 'utf8');
            const attempt = (deadline: number) =>
              socket.send(buf, (e) => {
                if (!e) return ok();
                // EAGAIN: the daemon is behind; wait for room rather than drop the entry.
                if (e.message !== 'congestion' || Date.now() > deadline) return ko(e);
                socket.once('writable', () => attempt(deadline));
              });
            attempt(Date.now() + CONGESTION_MS);
          }),
        close: () => socket.close(),
      });
    });
    socket.connect(path);
  });
}

/** A stream socket, for daemons that listen on one (Go's log/syslog falls back to it as well). */
function stream(path: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => socket.destroy());
      socket.resume();
      resolve({
        send: (message) => new Promise<void>((ok, ko) => (socket.destroyed ? ko(new Error('syslog connection closed')) : socket.write(`${message}\n`, (e) => (e ? ko(e) : ok())))),
        close: () => socket.destroy(),
      });
    });
  });
}

/** The errno name of an error (unix-dgram gives negative numbers, node:net names). */
export function errnoName(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') return Object.entries(constants.errno).find(([, n]) => n === -code)?.[0] ?? `errno ${code}`;
  return e instanceof Error ? e.message : 'error';
}

async function connect(path: string): Promise<Transport> {
  try {
    return await datagram(path);
  } catch (e) {
    // A stream socket refuses a datagram connection with EPROTOTYPE.
    if (errnoName(e) !== 'EPROTOTYPE') throw e;
    return stream(path);
  }
}

/** Entries to the local syslog daemon, each one message "<PRI>TIMESTAMP TAG[PID]: ENTRY". */
class SyslogSink implements AuditSink {
  readonly #path: string;
  readonly #priority: string;
  readonly #tag: string;
  #transport: Transport;

  constructor(path: string, transport: Transport, facility: number, tag: string) {
    this.#path = path;
    this.#transport = transport;
    this.#priority = `<${facility * 8 + SEVERITY_INFO}>`;
    this.#tag = `${tag}[${process.pid}]: `;
  }

  async write(entry: string): Promise<void> {
    const message = `${this.#priority}${stamp(new Date())} ${this.#tag}${entry}`;
    try {
      await this.#transport.send(message);
    } catch {
      // The daemon restarted: its socket is a new one. Connect again and try once more.
      await this.reopen();
      await this.#transport.send(message);
    }
  }

  async reopen(): Promise<void> {
    const next = await connect(this.#path);
    this.#transport.close();
    this.#transport = next;
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

/**
 * Vault's `syslog` device: facility (default AUTH) and tag (default "vault"). coffer adds
 * `address`, the path of the daemon's socket, for a daemon that listens elsewhere.
 */
export const syslogSinkType: AuditSinkType = {
  options: ['facility', 'tag', 'address'],
  async create(options) {
    const facilityName = (options['facility'] || 'AUTH').toUpperCase();
    const facility = FACILITIES[facilityName];
    if (facility === undefined) throw badRequest(`invalid facility: expected one of ${Object.keys(FACILITIES).join(', ')}`);
    const tag = options['tag'] || 'vault';
    if (!/^[\x21-\x7e]{1,48}$/.test(tag)) throw badRequest('invalid tag: up to 48 printable characters without spaces');
    const path = options['address'] || SYSLOG_SOCKETS.find((p) => fs.existsSync(p) && fs.statSync(p).isSocket());
    if (!path) throw badRequest(`no syslog daemon found: none of ${SYSLOG_SOCKETS.join(', ')} is a socket (set address to the daemon's socket)`);
    try {
      return new SyslogSink(path, await connect(path), facility, tag);
    } catch (e) {
      throw badRequest(`failed to connect to syslog at ${path}: ${errnoName(e)}`);
    }
  },
};
