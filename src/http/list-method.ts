import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * Node's HTTP parser (llhttp) knows a fixed list of methods and answers `LIST` with a bare 400
 * before any handler runs, yet every Vault client sends LIST. This module sits between the socket
 * and the parser and rewrites the request line `LIST /p?q HTTP/1.1` into `GET /p?list=true&q
 * HTTP/1.1`, which Vault defines as the same request.
 *
 * To rewrite only request lines, it tracks message framing exactly as strictly as llhttp does:
 * it finds the end of each head, then skips Content-Length bytes or chunked encoding. Whenever
 * framing is anything but unambiguous (CL and TE together, repeated or malformed CL, a TE other
 * than chunked, obs-fold, bare LF, oversized heads, upgrades) it stops interpreting and passes
 * every remaining byte through untouched, so llhttp sees the original bytes and rejects them as
 * it always would. It never changes a byte outside a head it fully understood, which keeps it
 * from opening a request-smuggling gap between itself and the parser.
 */
export class RequestFramer {
  /** Heads larger than this are passed through for llhttp to reject (431). */
  static readonly MAX_HEAD = 16 * 1024 + 1024;
  #state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'passthrough' = 'head';
  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** The last (up to) 3 bytes of #pending, where a "\r\n\r\n" may start. */
  #tail: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #line = '';

  /**
   * What the connection is waiting for: nothing ("idle", between requests), the rest of a
   * head, or the rest of a body. Passthrough counts as a body: it only ends with the connection.
   */
  get phase(): 'idle' | 'head' | 'body' {
    if (this.#state === 'head') return this.#pendingLength === 0 ? 'idle' : 'head';
    return 'body';
  }

  /** Transform one chunk of client bytes into what the HTTP parser should see. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.#state) {
        case 'passthrough':
          out.push(pos === 0 ? chunk : chunk.subarray(pos));
          return out;
        case 'head':
          pos = this.#head(chunk, pos, out);
          break;
        case 'body': {
          const n = Math.min(this.#remaining, chunk.length - pos);
          out.push(chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = 'head';
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.#remaining, chunk.length - pos);
          out.push(chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#state = 'chunk-crlf';
            this.#line = '';
          }
          break;
        }
        case 'chunk-size':
        case 'chunk-crlf':
        case 'trailer':
          pos = this.#chunkLine(chunk, pos, out);
          break;
      }
    }
    return out;
  }

  #passthrough(out: Buffer[], rest: Buffer[]): void {
    this.#state = 'passthrough';
    out.push(...rest);
  }

  #head(chunk: Buffer, pos: number, out: Buffer[]): number {
    const piece = chunk.subarray(pos);
    // Search only the new bytes plus the last 3 pending ones, so slow senders cost linear time.
    let end = -1;
    if (this.#tail.length > 0) {
      const t = Buffer.concat([this.#tail, piece.subarray(0, 3)]).indexOf('\r\n\r\n');
      if (t !== -1) end = this.#pendingLength - this.#tail.length + t + 4;
    }
    if (end === -1) {
      const i = piece.indexOf('\r\n\r\n');
      if (i !== -1) end = this.#pendingLength + i + 4;
    }
    if (end === -1) {
      this.#pending.push(piece);
      this.#pendingLength += piece.length;
      this.#tail = Buffer.from(piece.length >= 3 ? piece.subarray(-3) : Buffer.concat([this.#tail, piece]).subarray(-3));
      if (this.#pendingLength > RequestFramer.MAX_HEAD) this.#passthrough(out, this.#takePending());
      return chunk.length;
    }
    const consumedFromPiece = end - this.#pendingLength;
    const head = Buffer.concat([...this.#takePending(), piece.subarray(0, consumedFromPiece)]);
    const rewritten = this.#frame(head);
    if (rewritten === null) {
      this.#passthrough(out, [head, piece.subarray(consumedFromPiece)]);
      return chunk.length;
    }
    out.push(rewritten);
    return pos + consumedFromPiece;
  }

  #takePending(): Buffer[] {
    const p = this.#pending;
    this.#pending = [];
    this.#pendingLength = 0;
    this.#tail = Buffer.alloc(0);
    return p;
  }

  /** Decide the framing of the message whose head this is; null means "stop interpreting". */
  #frame(head: Buffer): Buffer | null {
    const text = head.toString('latin1');
    // Leading empty lines before a request line are allowed (RFC 9112 §2.2); keep them as sent.
    const lead = /^(?:\r\n)*/.exec(text)![0].length;
    const lines = text.slice(lead, -4).split('\r\n');
    if (lines.some((l) => l.includes('\n') || l.includes('\r'))) return null;
    const requestLine = lines[0] ?? '';
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/1\.[01])$/.exec(requestLine);
    if (!m) return null;
    const [, method, target, version] = m as unknown as [string, string, string, string];
    let cl: string | null = null;
    let te: string | null = null;
    for (const line of lines.slice(1)) {
      if (line.startsWith(' ') || line.startsWith('\t')) return null; // obs-fold
      const colon = line.indexOf(':');
      if (colon <= 0) return null;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (cl !== null || !/^\d{1,15}$/.test(value)) return null;
        cl = value;
      } else if (name === 'transfer-encoding') {
        if (te !== null) return null;
        te = value.toLowerCase();
      } else if (name === 'upgrade') {
        return null;
      }
    }
    if (method === 'CONNECT') return null;
    if (te !== null) {
      if (cl !== null || te !== 'chunked' || version !== 'HTTP/1.1') return null;
      this.#state = 'chunk-size';
      this.#line = '';
    } else if (cl !== null && Number(cl) > 0) {
      this.#state = 'body';
      this.#remaining = Number(cl);
    } else {
      this.#state = 'head';
    }
    if (method !== 'LIST') return head;
    const q = target.indexOf('?');
    const listed = q === -1 ? `${target}?list=true` : `${target.slice(0, q + 1)}list=true&${target.slice(q + 1)}`;
    const rest = text.slice(lead + requestLine.length);
    return Buffer.from(`${text.slice(0, lead)}GET ${listed} ${version}${rest}`, 'latin1');
  }

  /** Chunk-size lines, the CRLF after chunk data, and trailer lines. */
  #chunkLine(chunk: Buffer, pos: number, out: Buffer[]): number {
    const nl = chunk.indexOf(0x0a, pos);
    const stop = nl === -1 ? chunk.length : nl + 1;
    out.push(chunk.subarray(pos, stop));
    this.#line += chunk.toString('latin1', pos, stop);
    if (this.#line.length > 4096) {
      this.#state = 'passthrough';
      return stop;
    }
    if (nl === -1) return stop;
    const line = this.#line;
    this.#line = '';
    if (!line.endsWith('\r\n')) {
      this.#state = 'passthrough';
      return stop;
    }
    const body = line.slice(0, -2);
    if (this.#state === 'chunk-crlf') {
      this.#state = body === '' ? 'chunk-size' : 'passthrough';
    } else if (this.#state === 'chunk-size') {
      const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(body);
      if (!size) this.#state = 'passthrough';
      else if (Number.parseInt(size[1]!, 16) === 0) this.#state = 'trailer';
      else {
        this.#state = 'chunk-data';
        this.#remaining = Number.parseInt(size[1]!, 16);
      }
    } else if (body === '') {
      this.#state = 'head'; // end of trailers: the message is complete
    }
    return stop;
  }
}

/**
 * A duplex the HTTP server reads through: bytes from the socket pass a RequestFramer on the way
 * in; responses go straight to the socket. Socket methods the HTTP server calls are forwarded.
 */
export interface ReceiveTimeouts {
  /** Longest time from a request's first byte to the end of its head. */
  readonly headerMs: number;
  /** Longest time from a request's first byte to the end of its body. */
  readonly requestMs: number;
}

export class ListMethodSocket extends Duplex {
  readonly #socket: Socket;
  readonly #framer = new RequestFramer();
  readonly #timeouts: ReceiveTimeouts;
  #headerTimer: NodeJS.Timeout | null = null;
  #requestTimer: NodeJS.Timeout | null = null;
  /** Set for TLS connections, so the HTTP layer reports https. */
  readonly encrypted: boolean;

  constructor(socket: Socket, encrypted: boolean, timeouts: ReceiveTimeouts) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.encrypted = encrypted;
    this.#timeouts = timeouts;
    socket.on('data', (chunk: Buffer) => {
      const wasIdle = this.#framer.phase === 'idle';
      for (const piece of this.#framer.push(chunk)) {
        if (!this.push(piece)) socket.pause();
      }
      this.#trackTimeouts(wasIdle);
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.emit('drain'));
    socket.on('timeout', () => this.emit('timeout'));
  }

  /**
   * Slow clients (slowloris) cannot hold the connection: a head must arrive within headerMs of
   * its first byte, and the whole request within requestMs; otherwise the connection is closed.
   * A chunk that completes one request and starts the next restarts the clocks.
   */
  #trackTimeouts(wasIdle: boolean): void {
    const phase = this.#framer.phase;
    if (phase === 'idle' || wasIdle) this.#clearTimers();
    if (phase === 'idle') return;
    const expire = () => this.destroy();
    if (phase === 'head' && !this.#headerTimer) this.#headerTimer = setTimeout(expire, this.#timeouts.headerMs).unref();
    if (phase === 'body' && this.#headerTimer) {
      clearTimeout(this.#headerTimer);
      this.#headerTimer = null;
    }
    if (!this.#requestTimer) this.#requestTimer = setTimeout(expire, this.#timeouts.requestMs).unref();
  }

  #clearTimers(): void {
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    if (this.#requestTimer) clearTimeout(this.#requestTimer);
    this.#headerTimer = null;
    this.#requestTimer = null;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.#socket.localPort;
  }
  get bufferSize(): number {
    return this.#socket.writableLength;
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.#socket.setTimeout(ms, cb);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.#socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.#socket.setKeepAlive(enable, delay);
    return this;
  }
  destroySoon(): void {
    this.#socket.end();
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#socket.write(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.#socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.#socket.write(chunks[i]!.chunk);
    this.#socket.write(chunks[chunks.length - 1]!.chunk, cb);
    this.#socket.uncork();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#socket.end(cb);
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    this.#clearTimers();
    this.#socket.destroy(e ?? undefined);
    cb(e);
  }
}
