// The part of unix-dgram (Unix datagram sockets, which node:dgram lacks) that the syslog device uses.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';
  export interface UnixDgramSocket extends EventEmitter {
    connect(path: string): void;
    bind(path: string): void;
    send(buf: Buffer, callback?: (err?: Error & { code?: unknown }) => void): void;
    close(): void;
  }
  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;
}
