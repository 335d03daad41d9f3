import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { AuthResult, ConnectionInfo, LeaseInfo, Operation, WrapInfo } from '../../logical/index.js';
import type { TokenEntry } from '../tokens/token-store.js';

/** The HMAC key of one audit device: every hashed value in its entries is keyed by it. */
export class Salt {
  readonly #key: KeyObject;

  constructor(key: Uint8Array) {
    this.#key = createSecretKey(key);
  }

  /** "hmac-sha256:" and the hex HMAC-SHA256 of the value; what sys/audit-hash answers. */
  hash(value: string): string {
    return `hmac-sha256:${createHmac('sha256', this.#key).update(value).digest('hex')}`;
  }
}

/** How a device writes its entries: the options every audit device type takes. */
export interface FormatSettings {
  readonly format: 'json' | 'jsonx';
  /** Written before each entry. */
  readonly prefix: string;
  /** Write values as they are, nothing hashed. */
  readonly logRaw: boolean;
  /** Hash token accessors (the default) or write them as they are. */
  readonly hmacAccessor: boolean;
  /** Write the number of keys a list answered with instead of the keys. */
  readonly elideListResponses: boolean;
}

/** The mount that served a request. */
export interface AuditMount {
  readonly prefix: string;
  readonly type: string;
  readonly accessor: string;
  /** Keys of the request's and the response's data written in the clear (the mount's audit_non_hmac_*_keys tuning). */
  readonly plainRequestKeys?: readonly string[];
  readonly plainResponseKeys?: readonly string[];
}

/** What the pipeline knows of a request when it is recorded. */
export interface AuditRequest {
  readonly id: string;
  readonly operation: Operation;
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The token the client sent; only its HMAC is ever written. */
  readonly token: string;
  readonly entry: TokenEntry | null;
  readonly policies: readonly string[] | null;
  readonly mount: AuditMount | null;
  readonly connection: ConnectionInfo;
  /** The request headers an operator chose to audit (names in lower case), and whether each is hashed. */
  readonly headers: readonly AuditedHeader[];
}

/** The envelope a response entry records. */
export interface AuditResponse {
  readonly data?: unknown;
  readonly auth?: AuthResult;
  readonly lease?: LeaseInfo;
  readonly warnings?: readonly string[];
  readonly wrapInfo?: WrapInfo;
}

/** One audited request header as the client sent it. */
export interface AuditedHeader {
  readonly name: string;
  readonly values: readonly string[];
  readonly hmac: boolean;
}

const NONE: readonly string[] = [];

/**
 * A copy of a value with every string in it hashed; keys, numbers, booleans and nulls stay as
 * they are, and so does what is under a key in `plain`, at any depth (as Vault's audit_non_hmac keys).
 */
export function hashStructure(value: unknown, hash: (s: string) => string, plain: readonly string[] = NONE): unknown {
  if (typeof value === 'string') return hash(value);
  if (Array.isArray(value)) return value.map((v) => hashStructure(v, hash, plain));
  if (value instanceof Uint8Array) return hash(Buffer.from(value).toString('base64'));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a key named "__proto__" is data like any other.
      Object.defineProperty(out, k, { value: plain.includes(k) ? v : hashStructure(v, hash, plain), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const json = JSON.stringify;
const NAMESPACE = '{"id":"root"}';

/** The time of an entry, in ISO 8601 with milliseconds; made once per millisecond, however many entries share it. */
let stampMs = 0;
let stampText = '';
function now(): string {
  const ms = Date.now();
  if (ms !== stampMs) {
    stampMs = ms;
    stampText = new Date(ms).toISOString();
  }
  return stampText;
}

/**
 * The entries of one device, in Vault's JSON shape. The parts that cost the most (a token's auth
 * block, a cached read's hashed data) are kept while the objects they came from live, so a hot
 * read costs one HMAC-free string join per entry.
 */
export class EntryFormatter {
  readonly #settings: FormatSettings;
  readonly #hash: (s: string) => string;
  /** Per token entry: its auth object, and its token's and accessor's hashes as the request object writes them (caller). */
  readonly #byEntry = new WeakMap<TokenEntry, { policies: readonly string[] | null; auth: string; caller: string }>();
  readonly #dataJson = new WeakMap<object, { plain: readonly string[]; text: string }>();

  constructor(salt: Salt, settings: FormatSettings) {
    this.#settings = settings;
    this.#hash = settings.logRaw ? (s) => s : (s) => salt.hash(s);
  }

  /** The `auth` object of a request's entries: who made it. */
  auth(req: AuditRequest): string {
    const entry = req.entry;
    if (!entry) return req.token === '' ? '{"token_type":"default"}' : `{"client_token":${json(this.#hash(req.token))},"token_type":"default"}`;
    return this.#entryParts(req, entry).auth;
  }

  /** What an entry's token contributes to its entries, made once per token entry (and set of policies). */
  #entryParts(req: AuditRequest, entry: TokenEntry): { auth: string; caller: string } {
    const memo = this.#byEntry.get(entry);
    if (memo && memo.policies === req.policies) return memo;
    const policies = req.policies ?? entry.policies;
    const identity = policies.filter((p) => !entry.policies.includes(p));
    const token = this.#hash(req.token);
    const accessor = this.#accessor(entry.accessor);
    const auth = json({
      client_token: token,
      accessor,
      display_name: entry.displayName,
      policies,
      token_policies: entry.policies,
      ...(identity.length ? { identity_policies: identity } : {}),
      ...(entry.meta ? { metadata: entry.meta } : {}),
      entity_id: entry.entityId,
      token_type: entry.type,
      token_ttl: entry.creationTtl,
      token_issue_time: new Date(entry.creationTime * 1000).toISOString(),
    });
    const parts = { policies: req.policies, auth, caller: `,"client_token":${json(token)},"client_token_accessor":${json(accessor)}` };
    this.#byEntry.set(entry, parts);
    return parts;
  }

  /** The `request` object: what was asked, of which mount, from where. */
  request(req: AuditRequest): string {
    const m = req.mount;
    // Who asked: a live token's hashes are made once; an unknown token's each time.
    const caller = req.entry ? this.#entryParts(req, req.entry).caller : req.token === '' ? '' : `,"client_token":${json(this.#hash(req.token))}`;
    const data = Object.keys(req.data).length ? this.#data(req.data, m?.plainRequestKeys ?? NONE) : 'null';
    let headers = '';
    for (const h of req.headers) headers += `${headers ? ',' : ''}${json(h.name)}:${json(h.hmac ? h.values.map(this.#hash) : h.values)}`;
    return (
      `{"id":${json(req.id)},"operation":${json(req.operation)}` +
      (m ? `,"mount_point":${json(m.prefix)},"mount_type":${json(m.type)},"mount_accessor":${json(m.accessor)}` : '') +
      `${caller},"namespace":${NAMESPACE},"path":${json(req.path)},"data":${data}` +
      `,"remote_address":${json(req.connection.remoteAddress)},"remote_port":${req.connection.remotePort ?? 0}` +
      (headers ? `,"headers":{${headers}}` : '') +
      '}'
    );
  }

  /** The `response` object: what the client was answered. */
  response(req: AuditRequest, res: AuditResponse | null): string {
    const m = req.mount;
    let out = m ? `"mount_point":${json(m.prefix)},"mount_type":${json(m.type)},"mount_accessor":${json(m.accessor)}` : '';
    const add = (part: string) => (out += out ? `,${part}` : part);
    if (res?.auth) add(`"auth":${this.#responseAuth(res.auth)}`);
    if (res?.lease) add(`"secret":{"lease_id":${json(res.lease.id)}}`);
    if (res?.data !== undefined && res.data !== null) add(`"data":${this.#responseData(req.operation, res.data, m?.plainResponseKeys ?? NONE)}`);
    if (res?.wrapInfo) add(`"wrap_info":${json(this.#wrapInfo(res.wrapInfo))}`);
    if (res?.warnings?.length) add(`"warnings":${json(res.warnings)}`);
    return `{${out}}`;
  }

  /** One whole entry, in the device's format, prefixed. */
  entry(type: 'request' | 'response', auth: string, request: string, response: string | null, error: string | undefined): string {
    const text =
      `{"time":"${now()}","type":"${type}","auth":${auth},"request":${request}` +
      (response !== null ? `,"response":${response}` : '') +
      (error !== undefined ? `,"error":${json(error)}` : '') +
      '}';
    return this.#settings.prefix + (this.#settings.format === 'jsonx' ? toJsonx(JSON.parse(text)) : text);
  }

  #accessor(accessor: string): string {
    return this.#settings.hmacAccessor ? this.#hash(accessor) : accessor;
  }

  #data(data: unknown, plain: readonly string[]): string {
    // Data that cannot change (a cached read's) is hashed once while it lives.
    if (typeof data !== 'object' || data === null || !Object.isFrozen(data)) return json(hashStructure(data, this.#hash, plain));
    const memo = this.#dataJson.get(data);
    if (memo?.plain === plain) return memo.text;
    const text = json(hashStructure(data, this.#hash, plain));
    this.#dataJson.set(data, { plain, text });
    return text;
  }

  #responseData(operation: Operation, data: unknown, plain: readonly string[]): string {
    if (operation === 'list' && this.#settings.elideListResponses && typeof data === 'object' && data !== null) {
      const d = data as Record<string, unknown>;
      const elided: Record<string, unknown> = { ...d };
      if (Array.isArray(d['keys'])) elided['keys'] = d['keys'].length;
      if (typeof d['key_info'] === 'object' && d['key_info'] !== null) elided['key_info'] = Object.keys(d['key_info']).length;
      return this.#data(elided, plain);
    }
    return this.#data(data, plain);
  }

  #responseAuth(a: AuthResult): string {
    return json({
      client_token: this.#hash(a.clientToken),
      accessor: this.#accessor(a.accessor),
      policies: a.policies,
      token_policies: a.tokenPolicies,
      ...(a.identityPolicies.length ? { identity_policies: a.identityPolicies } : {}),
      ...(a.metadata ? { metadata: a.metadata } : {}),
      entity_id: a.entityId,
      token_type: a.tokenType,
      token_ttl: a.leaseDuration,
    });
  }

  #wrapInfo(w: WrapInfo): WrapInfo {
    return { ...w, token: this.#hash(w.token), accessor: this.#accessor(w.accessor), wrapped_accessor: w.wrapped_accessor === '' ? '' : this.#accessor(w.wrapped_accessor) };
  }
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const xml = (s: string) => s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/** A JSON value as IBM's JSONx, the XML form Vault's `format=jsonx` writes. */
export function toJsonx(value: unknown): string {
  const el = (v: unknown, name: string | null): string => {
    const attr = name === null ? '' : ` name="${xml(name)}"`;
    if (v === null || v === undefined) return `<json:null${attr}/>`;
    if (typeof v === 'string') return `<json:string${attr}>${xml(v)}</json:string>`;
    if (typeof v === 'number') return `<json:number${attr}>${v}</json:number>`;
    if (typeof v === 'boolean') return `<json:boolean${attr}>${v}</json:boolean>`;
    if (Array.isArray(v)) return `<json:array${attr}>${v.map((x) => el(x, null)).join('')}</json:array>`;
    const members = Object.keys(v as object).sort().map((k) => el((v as Record<string, unknown>)[k], k)).join('');
    return `<json:object${attr}>${members}</json:object>`;
  };
  const body = el(value, null).replace(/^<json:object/, '<json:object xmlns:json="http://www.ibm.com/xmlns/prod/2009/jsonx"');
  return `<?xml version="1.0" encoding="UTF-8"?>${body}`;
}
