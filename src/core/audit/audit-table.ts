import { randomBytes, randomUUID } from 'node:crypto';
import { CofferError, badRequest, deleteOp, getJSON, putJSON, putJSONOp, type AuditSink, type AuditSinkRegistry, type StorageView } from '../../logical/index.js';
import type { Logger } from '../../util/index.js';
import { AuditBroker, AuditDevice } from './broker.js';
import { EntryFormatter, Salt, type AuditedHeader, type FormatSettings } from './format.js';

/** A device as sys/audit lists it and the audit table stores it. */
export interface AuditTableEntry {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly options: Readonly<Record<string, string>>;
  readonly local: boolean;
  /** Names its salt. */
  readonly uuid: string;
}

/** An `audit "type" "path" { ... }` stanza of the server configuration. */
export interface DeclaredAuditDevice {
  readonly type: string;
  readonly path: string;
  readonly description: string;
  readonly options: Readonly<Record<string, string>>;
  readonly local: boolean;
}

/** The options every device type takes (Vault's common options). */
const COMMON_OPTIONS = ['format', 'prefix', 'log_raw', 'hmac_accessor', 'elide_list_responses'];
/** Vault Enterprise's filtering options, which coffer does not offer. */
const ENTERPRISE_OPTIONS = ['fallback', 'filter', 'exclude'];
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
const SALT_BYTES = 32;
/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function parseBool(options: Readonly<Record<string, string>>, key: string, fallback: boolean): boolean {
  const v = options[key];
  if (v === undefined || v === '') return fallback;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw badRequest(`unable to parse '${key}': expected true or false`);
}

export function formatSettings(options: Readonly<Record<string, string>>): FormatSettings {
  const format = options['format'] || 'json';
  if (format !== 'json' && format !== 'jsonx') throw badRequest('invalid format: expected "json" or "jsonx"');
  return {
    format,
    prefix: options['prefix'] ?? '',
    logRaw: parseBool(options, 'log_raw', false),
    hmacAccessor: parseBool(options, 'hmac_accessor', true),
    elideListResponses: parseBool(options, 'elide_list_responses', false),
  };
}

/** "file" → "file/"; refuses what cannot name a device. */
export function devicePath(raw: string): string {
  const path = raw.replace(/^\/+/, '').replace(/\/*$/, '/');
  if (path === '/' || path.split('/').slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) throw badRequest('invalid audit device path');
  return path;
}

/**
 * The enabled audit devices: those enabled through sys/audit (kept in the audit table behind
 * the barrier, each with its own salt) and those declared in the configuration file (made anew
 * at every unseal, their salts kept so that their hashes stay comparable). Loaded at unseal into
 * the broker the pipeline writes to.
 */
export class AuditTable {
  readonly #view: StorageView;
  readonly #sinks: AuditSinkRegistry;
  readonly #broker: AuditBroker;
  readonly #logger: Logger;
  readonly #declared: readonly DeclaredAuditDevice[];
  #entries: AuditTableEntry[] = [];
  #declaredPaths = new Set<string>();
  #salts = new Map<string, Salt>();
  #headers = new Map<string, { hmac: boolean }>();

  constructor(opts: { view: StorageView; sinks: AuditSinkRegistry; broker: AuditBroker; logger: Logger; declared: readonly DeclaredAuditDevice[] }) {
    this.#view = opts.view;
    this.#sinks = opts.sinks;
    this.#broker = opts.broker;
    this.#logger = opts.logger;
    this.#declared = opts.declared;
  }

  /**
   * Open every device. One from the audit table that cannot open now (its file unwritable) is
   * kept, failing, and retried at each entry: its peers still record, and with none the pipeline
   * serves nothing. A declared device that cannot open fails the unseal: the server was told
   * never to serve without it.
   */
  async load(): Promise<void> {
    this.#entries = [...((await getJSON<AuditTableEntry[]>(this.#view, 'table')) ?? [])];
    this.#headers = new Map(Object.entries((await getJSON<Record<string, { hmac: boolean }>>(this.#view, 'headers')) ?? {}));
    for (const e of this.#entries) {
      const settings = formatSettings(e.options);
      this.#install(e.path, await this.#salt(`salt/${e.uuid}`, false), settings, await this.#openOrRetry(e));
    }
    this.#declaredPaths = new Set();
    for (const d of this.#declared) {
      const path = devicePath(d.path);
      if (this.#conflict(path)) throw new CofferError('internal', `audit device "${path}" of the configuration file overlaps one enabled through the API`);
      const entry: AuditTableEntry = { ...d, path, uuid: `declared/${path}` };
      let settings: FormatSettings;
      let sink: AuditSink;
      try {
        settings = formatSettings(entry.options);
        sink = await this.#open(entry);
      } catch (e) {
        throw new CofferError('internal', `audit device "${path}" of the configuration file cannot start: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.#install(path, await this.#salt(`salt/declared/${path}`, true), settings, sink);
      this.#entries.push(entry);
      this.#declaredPaths.add(path);
    }
  }

  /** Close every device (at seal), each once the requests writing to it are done. */
  unload(): void {
    this.#broker.clear();
    this.#entries = [];
    this.#salts.clear();
  }

  list(): readonly AuditTableEntry[] {
    return this.#entries;
  }

  async enable(input: { path: string; type: string; description: string; options: Readonly<Record<string, string>>; local: boolean }): Promise<void> {
    const path = devicePath(input.path);
    if (this.#conflict(path)) throw badRequest('path already in use');
    const entry: AuditTableEntry = { path, type: input.type, description: input.description, options: input.options, local: input.local, uuid: randomUUID() };
    const settings = formatSettings(entry.options);
    const sink = await this.#open(entry);
    const key = randomBytes(SALT_BYTES);
    const table = [...this.#entries.filter((e) => !this.#declaredPaths.has(e.path)), entry];
    try {
      await this.#view.transaction([{ op: 'put', key: `salt/${entry.uuid}`, value: key }, putJSONOp('table', table)]);
    } catch (e) {
      await sink.close().catch(() => {});
      throw e;
    }
    this.#entries.push(entry);
    this.#install(path, new Salt(key), settings, sink);
  }

  /** Disable a device; one that is not enabled is no error (as in Vault). */
  async disable(rawPath: string): Promise<void> {
    const path = devicePath(rawPath);
    if (this.#declaredPaths.has(path)) throw badRequest(`audit device "${path}" is declared in the server configuration file; remove it there`);
    const entry = this.#entries.find((e) => e.path === path);
    if (!entry) return;
    const table = this.#entries.filter((e) => e !== entry && !this.#declaredPaths.has(e.path));
    await this.#view.transaction([putJSONOp('table', table), deleteOp(`salt/${entry.uuid}`)]);
    this.#entries = this.#entries.filter((e) => e !== entry);
    this.#salts.delete(path);
    this.#broker.remove(path);
  }

  /** A value as the device at path would write it hashed (sys/audit-hash). */
  hash(rawPath: string, input: string): string {
    const salt = this.#salts.get(devicePath(rawPath));
    if (!salt) throw badRequest(`unknown audit backend ${rawPath}`);
    return salt.hash(input);
  }

  /** Reopen every device's file or connection (SIGHUP); one that cannot is logged and retried at its next entry. */
  async reopen(): Promise<void> {
    for (const d of this.#broker.devices) {
      try {
        await d.sink.reopen();
      } catch (e) {
        this.#logger.error('audit device could not reopen', { path: d.path, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** The request headers audited (sys/config/auditing/request-headers). */
  headers(): ReadonlyMap<string, { readonly hmac: boolean }> {
    return this.#headers;
  }

  async setHeader(name: string, hmac: boolean): Promise<void> {
    if (!HEADER_NAME.test(name)) throw badRequest('invalid header name');
    const next = new Map(this.#headers).set(name.toLowerCase(), { hmac });
    await putJSON(this.#view, 'headers', Object.fromEntries(next));
    this.#headers = next;
  }

  async deleteHeader(name: string): Promise<void> {
    const next = new Map(this.#headers);
    if (!next.delete(name.toLowerCase())) return;
    await putJSON(this.#view, 'headers', Object.fromEntries(next));
    this.#headers = next;
  }

  /** The audited headers of a request, as the client sent them. */
  requestHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>> | undefined): readonly AuditedHeader[] {
    if (this.#headers.size === 0 || !headers) return [];
    const out: AuditedHeader[] = [];
    for (const [name, { hmac }] of this.#headers) {
      const v = headers[name];
      if (v === undefined) continue;
      out.push({ name, values: typeof v === 'string' ? [v] : v, hmac });
    }
    return out;
  }

  /** A device opened and formatting: it records from now on, and sys/audit-hash knows its salt. */
  #install(path: string, salt: Salt, settings: FormatSettings, sink: AuditSink): void {
    this.#salts.set(path, salt);
    this.#broker.add(new AuditDevice(path, new EntryFormatter(salt, settings), sink));
  }

  #conflict(path: string): boolean {
    return this.#entries.some((e) => e.path.startsWith(path) || path.startsWith(e.path));
  }

  async #salt(key: string, create: boolean): Promise<Salt> {
    let raw = await this.#view.get(key);
    if (!raw) {
      if (!create) throw new CofferError('internal', 'an audit device has lost its salt');
      raw = randomBytes(SALT_BYTES);
      await this.#view.put(key, raw);
    }
    return new Salt(raw);
  }

  /** A sink of the entry's type; the options are checked first, each wrong one named. */
  async #open(entry: AuditTableEntry): Promise<AuditSink> {
    const type = this.#sinks[entry.type];
    if (!type) throw badRequest(`unknown audit device type "${entry.type}": expected one of ${Object.keys(this.#sinks).join(', ')}`);
    for (const key of Object.keys(entry.options)) {
      if (ENTERPRISE_OPTIONS.includes(key)) throw badRequest(`option "${key}" is not supported (audit filtering is a Vault Enterprise feature coffer does not have)`);
      if (!COMMON_OPTIONS.includes(key) && !type.options.includes(key)) throw badRequest(`unknown option "${key}" for a ${entry.type} audit device`);
    }
    const own = Object.fromEntries(Object.entries(entry.options).filter(([k]) => type.options.includes(k)));
    return type.create(own, { logger: this.#logger });
  }

  /** The entry's sink, or one that keeps trying to open it at each entry it is given. */
  async #openOrRetry(entry: AuditTableEntry): Promise<AuditSink> {
    try {
      return await this.#open(entry);
    } catch (e) {
      this.#logger.error('audit device cannot open; it fails each entry until it can', { path: entry.path, error: e instanceof Error ? e.message : String(e) });
      let sink: AuditSink | null = null;
      const opened = async () => (sink ??= await this.#open(entry));
      return {
        write: async (line) => (await opened()).write(line),
        reopen: async () => {
          await (await opened()).reopen();
        },
        close: async () => {
          await sink?.close();
        },
      };
    }
  }
}
