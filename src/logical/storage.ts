/**
 * What a backend sees of storage: a view already confined to its own prefix and already behind
 * the barrier. Keys are relative to the view; nothing a backend passes can reach outside it.
 */
export interface StorageView {
  /** The value at key, or null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  /** Write value at key, durably, before resolving. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Remove key; absent keys are not an error. */
  delete(key: string): Promise<void>;
  /** Immediate children of prefix: leaf names, and folder names ending in "/". Sorted. */
  list(prefix: string): Promise<string[]>;
  /** Apply every operation, durably, or (on failure) none of them. */
  transaction(ops: readonly StorageOp[]): Promise<void>;
}

/** One write of a transaction. */
export type StorageOp =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly op: 'delete'; readonly key: string };

const enc = new TextEncoder();

/**
 * Parsed values by the exact bytes they were parsed from. The barrier hands out the same bytes
 * for a cached value until a write replaces or evicts them, so a parsed value lives exactly as
 * long as the bytes it came from, and coherence comes with the barrier's own invalidation.
 */
const parsed = new WeakMap<Uint8Array, unknown>();

/**
 * The JSON value at key, or null. Values are deep-frozen (they may be shared between requests):
 * callers copy before they change anything, and a mutation fails loudly instead of corrupting.
 */
export async function getJSON<T>(view: StorageView, key: string): Promise<T | null> {
  const raw = await view.get(key);
  if (raw === null) return null;
  const known = parsed.get(raw);
  if (known !== undefined) return known as T;
  const value = deepFreeze(JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as unknown);
  parsed.set(raw, value);
  return value as T;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export async function putJSON(view: StorageView, key: string, value: unknown): Promise<void> {
  await view.put(key, enc.encode(JSON.stringify(value)));
}

/** A transaction operation writing value as JSON at key. */
export function putJSONOp(key: string, value: unknown): StorageOp {
  return { op: 'put', key, value: enc.encode(JSON.stringify(value)) };
}

/** A transaction operation deleting key. */
export function deleteOp(key: string): StorageOp {
  return { op: 'delete', key };
}

/** Every key under prefix, depth-first, relative to the view (folders expanded). */
export async function listRecursive(view: StorageView, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const child of await view.list(prefix)) {
    if (child.endsWith('/')) out.push(...(await listRecursive(view, prefix + child)));
    else out.push(prefix + child);
  }
  return out;
}

/** Delete every key under prefix. */
export async function clearView(view: StorageView, prefix = ''): Promise<void> {
  for (const key of await listRecursive(view, prefix)) await view.delete(key);
}
