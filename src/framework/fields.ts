import { badRequest } from '../logical/index.js';
import { DurationError, parseDurationSeconds } from '../util/index.js';

/**
 * A typed request field with Vault's coercions: "1h" or 3600 for a duration, "true" for a bool,
 * "a,b" or ["a","b"] for a list. `parse` runs once at the edge; handlers receive typed values.
 */
export interface FieldSchema<T> {
  readonly description: string;
  readonly default: T;
  readonly required: boolean;
  parse(raw: unknown, name: string): T;
}

export type FieldSchemas = Record<string, FieldSchema<unknown>>;
export type FieldValues<F extends FieldSchemas> = { readonly [K in keyof F]: F[K] extends FieldSchema<infer T> ? T : never };

interface Options<T> {
  description: string;
  default?: T;
  required?: boolean;
}

function make<T>(opts: Options<T>, fallback: T, parse: (raw: unknown, name: string) => T): FieldSchema<T> {
  return { description: opts.description, default: opts.default ?? fallback, required: opts.required ?? false, parse };
}

function parseString(raw: unknown, name: string): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw badRequest(`field "${name}" must be a string`);
}

function parseInt(raw: unknown, name: string): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw badRequest(`field "${name}" must be an integer`);
  return n;
}

/** A duration in seconds ("1h30m" or 5400); a 400 naming the field otherwise. */
export function parseDuration(raw: unknown, name: string): number {
  try {
    return parseDurationSeconds(raw, name);
  } catch (e) {
    if (e instanceof DurationError) throw badRequest(e.message);
    throw e;
  }
}

/** Vault's TypeSignedDurationSecond: a duration that may be negative ("-1" disables a leeway). */
function parseSignedDuration(raw: unknown, name: string): number {
  if (typeof raw === 'number' && raw < 0) return -parseDuration(-raw, name);
  if (typeof raw === 'string' && raw.trim().startsWith('-')) return -parseDuration(raw.trim().slice(1), name);
  return parseDuration(raw, name);
}

function parseBool(raw: unknown, name: string): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const s = raw.toLowerCase();
    if (s === 'true' || s === '1' || s === 't') return true;
    if (s === 'false' || s === '0' || s === 'f' || s === '') return false;
  }
  if (raw === 1) return true;
  if (raw === 0) return false;
  throw badRequest(`field "${name}" must be a boolean`);
}

function parseStrings(raw: unknown, name: string): string[] {
  if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(raw)) return raw.map((v) => parseString(v, name).trim()).filter((s) => s !== '');
  throw badRequest(`field "${name}" must be a list of strings`);
}

/** Vault's TypeStringSlice: a list, or one string as a list of one (commas do not split it). */
function parseStringSlice(raw: unknown, name: string): string[] {
  if (typeof raw === 'string') return raw.trim() === '' ? [] : [raw.trim()];
  if (Array.isArray(raw)) return raw.map((v) => parseString(v, name).trim()).filter((s) => s !== '');
  throw badRequest(`field "${name}" must be a list of strings`);
}

/**
 * A map of strings read as loosely as Vault's TypeKVPairs: an object whose values are strings,
 * numbers, booleans or null (`{"version": 2}` is `{"version": "2"}`; true is "1", false "0",
 * null ""), or a list of "key=value" strings. Nested values are refused.
 */
export function parseStringMap(raw: unknown, name: string): Record<string, string> {
  const refuse = () => badRequest(`field "${name}" must be a map of strings`);
  const out: Record<string, string> = {};
  // defineProperty, not assignment: a key named "__proto__" is data like any other.
  const set = (k: string, v: string) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (raw === '') return out;
  const pairs = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : null;
  if (pairs) {
    for (const pair of pairs) {
      const eq = typeof pair === 'string' ? pair.indexOf('=') : -1;
      if (eq <= 0) throw badRequest(`field "${name}" must be a map of strings, or a list of "key=value" pairs`);
      set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
    }
    return out;
  }
  if (!isPlainObject(raw)) throw refuse();
  for (const [k, v] of Object.entries(raw)) {
    const s = looseString(v);
    if (s === null) throw refuse();
    set(k, s);
  }
  return out;
}

/** A scalar as Vault's weak decoding turns it into a string; null for anything else. */
function looseString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v === null) return '';
  return null;
}

/** An object, or (as Vault's TypeMap takes from the CLI) a string holding one in JSON. */
function parseMap(raw: unknown, name: string): Record<string, unknown> {
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    try {
      raw = JSON.parse(raw);
    } catch {
      throw badRequest(`field "${name}" must be an object, or a JSON object in a string`);
    }
  }
  if (!isPlainObject(raw)) throw badRequest(`field "${name}" must be an object`);
  return raw;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const field = {
  string: (o: Options<string>) => make(o, '', parseString),
  int: (o: Options<number>) => make(o, 0, parseInt),
  bool: (o: Options<boolean>) => make(o, false, parseBool),
  durationSeconds: (o: Options<number>) => make(o, 0, parseDuration),
  signedDurationSeconds: (o: Options<number>) => make(o, 0, parseSignedDuration),
  /** Vault's TypeCommaStringSlice: "a,b" or ["a","b"]. */
  strings: (o: Options<string[]>) => make(o, [], parseStrings),
  /** Vault's TypeStringSlice: ["a, b"] or "a, b" as one item (SQL statements hold commas). */
  stringSlice: (o: Options<string[]>) => make(o, [], parseStringSlice),
  stringMap: (o: Options<Record<string, string>>) => make(o, {}, parseStringMap),
  map: (o: Options<Record<string, unknown>>) => make(o, {}, parseMap),
  raw: (o: Options<unknown>) => make<unknown>(o, undefined, (v) => v),
};

/** Parse `data` against the schemas: typed values with defaults, plus which fields were sent. */
export function parseFields<F extends FieldSchemas>(
  schemas: F,
  data: Readonly<Record<string, unknown>>,
  captures: Readonly<Record<string, string>>,
  reportUnknown = true,
): { values: FieldValues<F>; provided: ReadonlySet<string>; unknown: string[] } {
  const values: Record<string, unknown> = {};
  const provided = new Set<string>();
  for (const name in schemas) {
    const schema = schemas[name]!;
    const raw = Object.hasOwn(captures, name) ? captures[name] : data[name];
    if (raw === undefined || raw === null) {
      if (schema.required) throw badRequest(`missing required field "${name}"`);
      values[name] = schema.default;
    } else {
      values[name] = schema.parse(raw, name);
      provided.add(name);
    }
  }
  const unknown = reportUnknown ? Object.keys(data).filter((k) => !Object.hasOwn(schemas, k)) : NONE;
  return { values: values as FieldValues<F>, provided, unknown };
}

const NONE: string[] = [];
