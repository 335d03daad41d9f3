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
  /**
   * The value at key if the view has it at hand (a cache hit), without waiting; undefined when
   * it does not know (then `get`). Never a stale value: the caches behind it are coherent.
   */
  peek?(key: string): Uint8Array | undefined;
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
export function getJSON<T>(view: StorageView, key: string): Promise<T | null> {
  // A cache hit is answered without the await chain of a storage read.
  const hit = view.peek?.(key);
  if (hit !== undefined) return Promise.resolve(parsedJSON<T>(hit));
  return view.get(key).then((raw) => (raw === null ? null : parsedJSON<T>(raw)));
}

function parsedJSON<T>(raw: Uint8Array): T {
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
