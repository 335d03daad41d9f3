import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { CofferError } from '../logical/index.js';

/**
 * A strict HTTP/1.1 server connection. coffer parses HTTP itself rather than through node:http
 * because Node's parser refuses the LIST method that every Vault client sends, and because one
 * parse per request (instead of node:http's streams and objects) leaves the time budget to the
 * request pipeline.
 *
 * Strictness is the defence against request smuggling. Whatever a front proxy could frame
 * differently is refused with 400 and the connection closed — Content-Length together with
 * Transfer-Encoding, repeated or malformed Content-Length, any transfer coding but "chunked",
 * obs-fold, bare CR or LF, control characters in fields, malformed chunk sizes. Pipelined
 * requests are answered in order, one at a time.
 */
export interface ParsedRequest {
  readonly method: string;
  readonly url: string;
  /**
   * Lower-cased names. A repeated field is a list of its values in order: the handler reads the
   * first, as Go's Header.Get does, so that X-Vault-Token sent twice names one token.
   */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer;
}

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes, or text to send UTF-8 encoded. */
  readonly body: Buffer | string | null;
}

export interface ConnectionLimits {
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
  readonly maxBodyBytes: number;
  /** From a request's first byte to the end of its head. */
  readonly headerTimeoutMs: number;
  /** From a request's first byte to the end of its body. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly idleTimeoutMs: number;
}

export type RequestHandler = (req: ParsedRequest) => Promise<Reply>;


const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/;
/** Field lines joined by CRLF, as they follow the request line. */
const FIELD_BLOCK = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** The body of every request without one (never written to). */
const EMPTY_BODY = Buffer.alloc(0);
/** Unread reply bytes beyond which a connection stops answering until the client reads. */
const OUTPUT_HIGH_WATER = 1024 * 1024;

interface Head {
  readonly method: string;
  readonly url: string;
  readonly version: '1.0' | '1.1';
  readonly headers: Record<string, string | string[]>;
  readonly framing: { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
}

/** A byte of an HTTP token (RFC 9110 tchar). */
function isTokenByte(b: number): boolean {
  return TOKEN.test(String.fromCharCode(b));
}

/** Parse a request head (without the final CRLFCRLF). Throws CofferError (its code gives the status). */
export function parseHead(text: string, limits: Pick<ConnectionLimits, 'maxHeaders'>): Head {
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 === sp1) throw new CofferError('invalid_request', 'malformed request line');
  const method = requestLine.slice(0, sp1);
  let url = requestLine.slice(sp1 + 1, sp2);
  const proto = requestLine.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw new CofferError('invalid_request', 'malformed request method');
  if (proto !== 'HTTP/1.1' && proto !== 'HTTP/1.0') throw new CofferError('http_version_not_supported', 'HTTP version not supported');
  if (url[0] !== '/' && /^https?:\/\//i.test(url)) {
    // absolute-form: keep only the path and query
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    url = slash === -1 ? '/' : url.slice(slash);
  }
  if (url[0] !== '/' || /[\x00-\x20\x7f]/.test(url)) throw new CofferError('invalid_request', 'malformed request target');

  // One pass validates every field line (name token, then a value without CR, LF, NUL or other
  // controls); the loop below only splits them.
  const headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  let contentLength: string | null = null;
  let transferEncoding: string | null = null;
  if (lineEnd !== -1) {
    const block = text.slice(lineEnd + 2);
    if (!FIELD_BLOCK.test(block)) {
      const bad = block.split('\r\n').find((l) => !FIELD_LINE.test(l)) ?? '';
      throw new CofferError('invalid_request', bad[0] === ' ' || bad[0] === '\t' ? 'obsolete header folding' : 'malformed header field');
    }
    let count = 0;
    for (let start = 0; start <= block.length; ) {
      let end = block.indexOf('\r\n', start);
      if (end === -1) end = block.length;
      if (++count > limits.maxHeaders) throw new CofferError('request_header_fields_too_large', 'too many header fields');
      const colon = block.indexOf(':', start);
      const name = block.slice(start, colon).toLowerCase();
      const value = block.slice(colon + 1, end).trim();
      start = end + 2;
      if (name === 'content-length') {
        if (contentLength !== null || !/^\d{1,15}$/.test(value)) throw new CofferError('invalid_request', 'invalid Content-Length');
        contentLength = value;
      } else if (name === 'transfer-encoding') {
        if (transferEncoding !== null) throw new CofferError('invalid_request', 'repeated Transfer-Encoding');
        transferEncoding = value.toLowerCase();
      }
      const seen = headers[name];
      headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
  }
  const joined = (name: string): string => {
    const v = headers[name];
    return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
  };

  let framing: Head['framing'] = { kind: 'none' };
  if (transferEncoding !== null) {
    if (contentLength !== null) throw new CofferError('invalid_request', 'Content-Length and Transfer-Encoding together');
    if (transferEncoding !== 'chunked' || proto === 'HTTP/1.0') throw new CofferError('not_implemented', 'unsupported Transfer-Encoding');
    framing = { kind: 'chunked' };
  } else if (contentLength !== null && Number(contentLength) > 0) {
    framing = { kind: 'length', length: Number(contentLength) };
  }
  if (method === 'CONNECT' || headers['upgrade'] !== undefined) throw new CofferError('invalid_request', 'upgrades are not supported');
  const connection = joined('connection').toLowerCase();
  const keepAlive = proto === 'HTTP/1.1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return {
    method,
    url,
    version: proto === 'HTTP/1.1' ? '1.1' : '1.0',
    headers,
    framing,
    keepAlive,
    expectContinue: joined('expect').toLowerCase() === '100-continue',
  };
}

/** Serialise a reply into one buffer, so each response costs one write. */
export function serialiseReply(reply: Reply, opts: { keepAlive: boolean; head: boolean }): Buffer {
  let text = statusLine(reply.status) + headerLines(reply.headers);
  const body = reply.body;
  const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (reply.status !== 204 && reply.status !== 304) text += `content-length: ${length}\r\n`;
  text += opts.keepAlive ? 'connection: keep-alive\r\n\r\n' : 'connection: close\r\n\r\n';
  if (body === null || opts.head || reply.status === 204) return Buffer.from(text, 'latin1');
  // One allocation for head and body: each response is one buffer and one write.
  const out = Buffer.allocUnsafe(text.length + length);
  out.write(text, 0, 'latin1');
  if (typeof body === 'string') out.write(body, text.length, 'utf8');
  else body.copy(out, text.length);
  return out;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, line);
  }
  return line;
}

/** Header objects are mostly shared constants: their text is formatted once. */
const headerText = new WeakMap<object, string>();
function headerLines(headers: Readonly<Record<string, string>>): string {
  let text = headerText.get(headers);
  if (text === undefined) {
    text = '';
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    if (Object.isFrozen(headers)) headerText.set(headers, text);
  }
  return text;
}

/**
 * Responses produced during one turn of the event loop are written together at its end. On a
 * loaded server every ready connection is read and answered in the same turn; writing the answers
 * back to back (instead of between the handlers) lets a client that was woken by the first one
 * read the rest without being woken again, which on virtual machines is a costly interrupt.
 */
const outbox: { socket: Socket; data: Buffer; end: boolean }[] = [];
function flushOutbox(): void {
  const batch = outbox.splice(0);
  for (const { socket, data, end } of batch) {
    if (socket.destroyed) continue;
    if (end) socket.end(data);
    else socket.write(data);
  }
}
function send(socket: Socket, data: Buffer, end: boolean): void {
  if (outbox.length === 0) setImmediate(flushOutbox);
  outbox.push({ socket, data, end });
}

/** A request whose head has been parsed and whose body is still arriving. */
interface Pending {
  readonly head: Head;
  readonly parts: Buffer[];
  size: number;
  /** For chunked bodies: bytes left in the current chunk's data, or -1 between chunks. */
  chunkLeft: number;
  inTrailer: boolean;
}

/** One client connection: parse, dispatch one request at a time, write, repeat. */
export class Http1Connection {
  readonly #socket: Socket;
  readonly #limits: ConnectionLimits;
  readonly #handler: RequestHandler;
  readonly #onError: (e: CofferError) => Reply;
  /** Received bytes not yet consumed, kept as a list so large bodies are joined only once. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Don't join #chunks until this many bytes are buffered (a Content-Length body in transit). */
  #needed = 0;
  #pending: Pending | null = null;
  #continued = false;
  #busy = false;
  #closing = false;
  /** When the current request's first byte arrived (0: none in flight), and whether its head is in. */
  #requestStart = 0;
  #headDone = false;
  /** Last time the connection did anything; idle keep-alive connections expire from it. */
  #lastActive = Date.now();
  /** Resolves when no request is being handled. */
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};

  constructor(socket: Socket, limits: ConnectionLimits, handler: RequestHandler, onError: (e: CofferError) => Reply) {
    this.#socket = socket;
    this.#limits = limits;
    this.#handler = handler;
    this.#onError = onError;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => socket.destroy());
  }

  /**
   * Called periodically by the listener instead of per-request timers: close the connection if a
   * head or a whole request has taken too long (slowloris), or it has idled past its keep-alive.
   */
  expire(now: number): void {
    const l = this.#limits;
    const overdue =
      this.#requestStart !== 0
        ? now - this.#requestStart > (this.#headDone ? l.requestTimeoutMs : l.headerTimeoutMs)
        : !this.#busy && now - this.#lastActive > l.idleTimeoutMs;
    if (overdue) this.#socket.destroy();
  }

  /** Wait for the request being handled (if any) and its reply to be written, then close. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#idle;
    await new Promise<void>((r) => setImmediate(r)); // after the outbox flush
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  #onData(chunk: Buffer): void {
    this.#lastActive = Date.now();
    if (this.#requestStart === 0 && !this.#busy) this.#begin();
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    // While one request is handled, hold at most one more request's worth of bytes.
    if (this.#busy && this.#buffered > this.#limits.maxHeadBytes + this.#limits.maxBodyBytes) this.#socket.pause();
    if (!this.#busy && this.#buffered >= this.#needed) this.#drive();
  }

  /** All buffered bytes as one buffer (joining only when there is more than one piece). */
  #buf(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #consume(n: number): void {
    const rest = this.#buf().subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#buffered = rest.length;
  }

  /** The clock for a new request starts with its first byte. */
  #begin(): void {
    this.#requestStart = this.#lastActive;
    this.#headDone = false;
  }

  /** Handle the next complete request in the buffer; the reply's write drives the one after. */
  #drive(): void {
    if (this.#closing || this.#socket.destroyed) return;
    let req: ParsedRequest | null;
    let head: Head;
    try {
      const done = this.#takeRequest();
      if (!done) return;
      ({ head } = done);
      req = { method: head.method, url: head.url, headers: head.headers, body: done.body };
    } catch (e) {
      this.#fail(e instanceof CofferError ? e : new CofferError('invalid_request', 'bad request'));
      return;
    }
    this.#requestStart = 0;
    this.#busy = true;
    this.#idle = new Promise((r) => (this.#markIdle = r));
    this.#handler(req)
      .catch(() => this.#onError(new CofferError('internal', 'internal error')))
      .then((reply) => {
        const keepAlive = head.keepAlive && !this.#closing;
        send(this.#socket, serialiseReply(reply, { keepAlive, head: head.method === 'HEAD' }), !keepAlive);
        this.#busy = false;
        this.#lastActive = Date.now();
        if (this.#buffered > 0) this.#begin();
        this.#markIdle();
        if (!keepAlive) return;
        // A client that pipelines requests but does not read the replies gets no more of them
        // until it does: replies must not pile up in memory.
        if (this.#socket.writableLength > OUTPUT_HIGH_WATER) {
          this.#socket.pause();
          this.#socket.once('drain', () => {
            this.#socket.resume();
            if (this.#buffered > 0 && !this.#busy) this.#drive();
          });
          return;
        }
        if (this.#socket.isPaused()) this.#socket.resume();
        if (this.#buffered > 0) this.#drive();
      })
      .catch(() => this.#socket.destroy());
  }

  /** The next complete request, or null if more bytes are needed. Consumes what it parses. */
  #takeRequest(): { head: Head; body: Buffer } | null {
    if (!this.#pending) {
      const buf = this.#buf();
      // Empty lines before a request line are allowed (RFC 9112 §2.2).
      let start = 0;
      while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
      const end = buf.indexOf(CRLFCRLF, start);
      if (end === -1) {
        if (buf.length - start > this.#limits.maxHeadBytes) throw new CofferError('request_header_fields_too_large', 'request header fields too large');
        // Don't wait for a head that cannot come: a request starts with a method token. A TLS
        // ClientHello (what a client pointed at https:// sends here) is refused at once.
        if (start < buf.length && !isTokenByte(buf[start]!)) {
          throw new CofferError('invalid_request', buf[start] === 0x16 ? 'Client sent an HTTPS request to an HTTP server.' : 'malformed request line');
        }
        return null;
      }
      if (end - start > this.#limits.maxHeadBytes) throw new CofferError('request_header_fields_too_large', 'request header fields too large');
      // Bare CR, bare LF and NUL cannot pass parseHead: the request line and every field are
      // checked against character classes that exclude them.
      const head = parseHead(buf.toString('latin1', start, end), this.#limits);
      if (head.framing.kind === 'length' && head.framing.length > this.#limits.maxBodyBytes) {
        throw new CofferError('payload_too_large', 'http: request body too large');
      }
      this.#headDone = true;
      this.#consume(end + 4);
      this.#continued = false;
      this.#pending = { head, parts: [], size: 0, chunkLeft: -1, inTrailer: false };
    }
    const p = this.#pending;
    const framing = p.head.framing;
    if (framing.kind === 'none') {
      this.#pending = null;
      return { head: p.head, body: EMPTY_BODY };
    }
    if (framing.kind === 'length') {
      if (this.#buffered < framing.length) {
        this.#needed = framing.length;
        this.#continue(p.head);
        return null;
      }
      this.#needed = 0;
      const body = Buffer.from(this.#buf().subarray(0, framing.length));
      this.#consume(framing.length);
      this.#pending = null;
      return { head: p.head, body };
    }
    const body = this.#dechunk(p);
    if (!body) {
      this.#continue(p.head);
      return null;
    }
    this.#pending = null;
    return { head: p.head, body };
  }

  /** Answer Expect: 100-continue once, when the head is in and the body is awaited. */
  #continue(head: Head): void {
    if (head.expectContinue && head.version === '1.1' && !this.#continued) {
      this.#continued = true;
      this.#socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  /**
   * Consume chunked framing incrementally: every byte is examined once, however the client
   * splits its writes. Returns the body when the last chunk and trailers are in, else null.
   */
  #dechunk(p: Pending): Buffer | null {
    for (;;) {
      const buf = this.#buf();
      if (p.chunkLeft > 0) {
        if (buf.length < p.chunkLeft + 2) {
          this.#needed = p.chunkLeft + 2;
          return null;
        }
        this.#needed = 0;
        if (buf[p.chunkLeft] !== 0x0d || buf[p.chunkLeft + 1] !== 0x0a) throw new CofferError('invalid_request', 'malformed chunk');
        p.parts.push(Buffer.from(buf.subarray(0, p.chunkLeft)));
        this.#consume(p.chunkLeft + 2);
        p.chunkLeft = -1;
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol === -1) {
        if (buf.length > (p.inTrailer ? this.#limits.maxHeadBytes : 1024)) throw new CofferError('invalid_request', 'malformed chunked encoding');
        return null;
      }
      const line = buf.toString('latin1', 0, eol);
      this.#consume(eol + 2);
      if (p.inTrailer) {
        if (line === '') return Buffer.concat(p.parts, p.size);
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/.test(line)) throw new CofferError('invalid_request', 'malformed trailer field');
        continue;
      }
      const m = /^([0-9a-fA-F]{1,8})(?:[ \t]*;[^\r\n]*)?$/.exec(line);
      if (!m) throw new CofferError('invalid_request', 'malformed chunk size');
      const n = Number.parseInt(m[1]!, 16);
      if (n === 0) {
        p.inTrailer = true;
        continue;
      }
      p.size += n;
      if (p.size > this.#limits.maxBodyBytes) throw new CofferError('payload_too_large', 'http: request body too large');
      p.chunkLeft = n;
    }
  }

  /** Answer a protocol error and close: after a framing error nothing later on the connection can be trusted. */
  #fail(e: CofferError): void {
    this.#closing = true;
    this.#requestStart = 0;
    // Through the outbox, so it cannot overtake a reply to an earlier pipelined request.
    send(this.#socket, serialiseReply(this.#onError(e), { keepAlive: false, head: false }), true);
    this.#chunks = [];
    this.#buffered = 0;
  }
}
