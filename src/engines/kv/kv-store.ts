import { createHash } from 'node:crypto';
import { getJSON, putJSON, putJSONOp, type LogicalResponse, type StorageOp, type StorageView } from '../../logical/index.js';

/** Mount-wide settings (kv config endpoint). */
export interface KvConfig {
  readonly max_versions: number;
  readonly cas_required: boolean;
  readonly delete_version_after: number;
}

export interface VersionMeta {
  readonly created_time: string;
  /** "" while live; an RFC 3339 time once deleted or scheduled for deletion. */
  readonly deletion_time: string;
  readonly destroyed: boolean;
}

/** Everything about a key except its values. */
export interface KeyMetadata {
  readonly versions: Readonly<Record<string, VersionMeta>>;
  readonly current_version: number;
  readonly oldest_version: number;
  readonly max_versions: number;
  readonly cas_required: boolean;
  readonly delete_version_after: number;
  readonly custom_metadata: Readonly<Record<string, string>> | null;
  readonly created_time: string;
  readonly updated_time: string;
  /**
   * The latest version's data. It lives here, not in an entry of its own, so that writing a new
   * key is one stored value and reading the latest version one storage read; a write that
   * supersedes it moves it to its own entry in the same transaction. Absent in metadata written
   * before this existed (every version then has its entry); null once that version is destroyed.
   */
  readonly latest?: { readonly version: number; readonly data: Record<string, unknown> } | null;
  /**
   * Where the key's versions are stored. 2: under the key's own path, so the writes of one key,
   * and of keys near each other, land near each other in storage (four times fewer pages written
   * than hashed keys, in SQLite). Absent in metadata written before: under the key's hash.
   */
  readonly layout?: 2;
}

export const DEFAULT_MAX_VERSIONS = 10;
export const DEFAULT_CONFIG: KvConfig = { max_versions: 0, cas_required: false, delete_version_after: 0 };

/**
 * KV v2 layout inside the mount's view: `config`, `metadata/<key>` (so metadata lists like the
 * key tree), and the versions: `versions/<key>/@<n>` (a key's own path; the "@" suffix keeps
 * (key, n) apart from every other key's versions) or, for keys whose metadata predates that,
 * `versions/<sha256(key)>/<n>`. KV v1 keeps its values under `data/<key>`, so an upgraded mount
 * can never confuse old values with the new layout.
 */
export const layout = {
  config: 'config',
  metadata: (key: string) => `metadata/${key}`,
  version: (meta: Pick<KeyMetadata, 'layout'>, key: string, n: number) =>
    meta.layout === 2 ? `versions/${key}/@${n}` : `versions/${createHash('sha256').update(key).digest('hex')}/${n}`,
  v1: (key: string) => `data/${key}`,
};

export async function readConfig(view: StorageView): Promise<KvConfig> {
  return (await getJSON<KvConfig>(view, layout.config)) ?? DEFAULT_CONFIG;
}

export async function readMetadata(view: StorageView, key: string): Promise<KeyMetadata | null> {
  return getJSON<KeyMetadata>(view, layout.metadata(key));
}

export async function writeMetadata(view: StorageView, key: string, meta: KeyMetadata): Promise<void> {
  await putJSON(view, layout.metadata(key), meta);
}

/** The data of version n: the latest lives in the metadata, the others in their own entries. */
export async function readVersion(view: StorageView, meta: KeyMetadata, key: string, n: number): Promise<Record<string, unknown> | null> {
  if (meta.latest?.version === n) return meta.latest.data;
  const stored = await getJSON<{ data: Record<string, unknown> }>(view, layout.version(meta, key, n));
  return stored?.data ?? null;
}

/** The transaction operation that stores version n of key. */
export function versionOp(meta: KeyMetadata, key: string, n: number, data: Record<string, unknown>): StorageOp {
  return putJSONOp(layout.version(meta, key, n), { data });
}

/** The transaction operation that stores the metadata of key. */
export function metadataOp(key: string, meta: KeyMetadata): StorageOp {
  return putJSONOp(layout.metadata(key), meta);
}

export function emptyMetadata(now: string): KeyMetadata {
  return {
    versions: {},
    current_version: 0,
    oldest_version: 0,
    max_versions: 0,
    cas_required: false,
    delete_version_after: 0,
    custom_metadata: null,
    created_time: now,
    updated_time: now,
    layout: 2,
  };
}

/** The RFC 3339 form Vault uses for KV times (nanosecond field padded from milliseconds). */
export function rfc3339(ms: number): string {
  if (ms !== lastTime.ms) lastTime = { ms, text: new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z') };
  return lastTime.text;
}
/** A write formats the same instant several times; so do the writes of one millisecond. */
let lastTime = { ms: NaN, text: '' };

/** True if a version is deleted now (soft delete, or its delete_version_after has passed). */
export function isDeleted(v: VersionMeta, nowMs: number): boolean {
  return v.deletion_time !== '' && Date.parse(v.deletion_time) <= nowMs;
}

/** LIST the folder `base` + prefix: the keys, or null (404) when there are none. */
export async function listUnder(storage: StorageView, base: string, prefix: string): Promise<LogicalResponse | null> {
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const keys = await storage.list(base + folder);
  return keys.length ? { data: { keys } } : null;
}
