import { definePath, field, matchAll, type CompiledPath, type FieldValues, type PathContext } from '../../framework/index.js';
import { isPlainObject } from '../../framework/index.js';
import { CofferError, badRequest, deleteOp, type LogicalResponse, type StorageOp, type StorageView } from '../../logical/index.js';
import type { KeyedMutex } from '../../util/index.js';
import {
  DEFAULT_MAX_VERSIONS, emptyMetadata, isDeleted, layout, metadataOp, readConfig, readMetadata, readVersion, rfc3339,
  versionOp, writeMetadata, type KeyMetadata, type VersionMeta,
} from './kv-store.js';

export interface KvV2Deps {
  readonly mutex: KeyedMutex;
  readonly now: () => number;
}

const dataFields = {
  path: field.string({ description: 'Location of the secret.' }),
  data: field.raw({ description: 'The key/value pairs of the secret.' }),
  options: field.raw({ description: 'Write options; "cas" makes the write check-and-set.' }),
  version: field.int({ description: 'Version to read; 0 or absent means the latest.' }),
};

export function keyOf(ctx: PathContext): string {
  const key = ctx.captures.path ?? '';
  if (key === '' || key.endsWith('/')) throw badRequest('invalid secret path: it must not be empty or end in "/"');
  return key;
}

export function versionMetadata(meta: KeyMetadata, n: number): Record<string, unknown> {
  const v = meta.versions[String(n)];
  return {
    created_time: v?.created_time ?? '',
    custom_metadata: meta.custom_metadata,
    deletion_time: v?.deletion_time ?? '',
    destroyed: v?.destroyed ?? false,
    version: n,
  };
}

/** The version a read resolves to, and whether it can be served. */
export async function resolveVersion(storage: StorageView, key: string, requested: number, nowMs: number) {
  const meta = await readMetadata(storage, key);
  if (!meta || meta.current_version === 0) return null;
  const n = requested > 0 ? requested : meta.current_version;
  const v = meta.versions[String(n)];
  if (!v) return null;
  const live = !v.destroyed && !isDeleted(v, nowMs);
  if (!live) return { meta, n, live, data: null };
  const data = await readVersion(storage, meta, key, n);
  return { meta, n, live, data };
}

function casOf(options: unknown): number | undefined {
  if (options === undefined || options === null) return undefined;
  if (!isPlainObject(options)) throw badRequest('"options" must be an object');
  const cas = options['cas'];
  if (cas === undefined || cas === null) return undefined;
  const n = typeof cas === 'string' ? Number(cas) : cas;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw badRequest('"cas" must be an integer');
  // No version is below 0, so (as in Vault) a negative cas simply does not match.
  if (n < 0) throw badRequest('check-and-set parameter did not match the current version');
  return n;
}

/**
 * Write a new version under the key lock: check-and-set, then prune beyond max_versions. The
 * new version (inside the metadata), the move of the version it supersedes, the pruning (and
 * `alsoOps`) are one transaction: no crash leaves a version without metadata, or metadata
 * without its version.
 */
export async function putVersion(
  deps: KvV2Deps,
  storage: StorageView,
  key: string,
  cas: number | undefined,
  build: (meta: KeyMetadata) => Promise<Record<string, unknown>>,
  alsoOps: readonly StorageOp[] = [],
): Promise<LogicalResponse> {
  return deps.mutex.run(key, async () => {
    const config = await readConfig(storage);
    const nowMs = deps.now();
    const now = rfc3339(nowMs);
    const prior = (await readMetadata(storage, key)) ?? emptyMetadata(now);
    if (cas === undefined && (config.cas_required || prior.cas_required)) {
      throw badRequest('check-and-set parameter required for this call');
    }
    if (cas !== undefined && cas !== prior.current_version) {
      throw badRequest('check-and-set parameter did not match the current version');
    }
    const data = await build(prior);
    const n = prior.current_version + 1;
    const after = prior.delete_version_after || config.delete_version_after;
    const versions: Record<string, VersionMeta> = {
      ...prior.versions,
      [String(n)]: { created_time: now, deletion_time: after > 0 ? rfc3339(nowMs + after * 1000) : '', destroyed: false },
    };
    const max = prior.max_versions || config.max_versions || DEFAULT_MAX_VERSIONS;
    const kept = Object.keys(versions).map(Number).sort((a, b) => a - b);
    const pruned = kept.slice(0, Math.max(0, kept.length - max));
    for (const old of pruned) delete versions[String(old)];
    const meta: KeyMetadata = {
      ...prior,
      versions,
      current_version: n,
      oldest_version: pruned.length ? Math.min(...Object.keys(versions).map(Number)) : prior.oldest_version,
      updated_time: now,
      latest: { version: n, data },
    };
    // The superseded latest version leaves the metadata for an entry of its own (unless pruned).
    const superseded = prior.latest && versions[String(prior.latest.version)] ? [versionOp(meta, key, prior.latest.version, prior.latest.data)] : [];
    await storage.transaction([
      metadataOp(key, meta),
      ...superseded,
      ...pruned.map((old) => deleteOp(layout.version(meta, key, old))),
      ...alsoOps,
    ]);
    return { data: versionMetadata(meta, n) };
  });
}

/**
 * The body of a read of version n, one frozen object per (stored metadata, n): a version never
 * changes once written, and metadata that changes is a new object. The envelope serialises a
 * frozen body once, so a key read again and again costs no JSON work.
 */
const readBodies = new WeakMap<KeyMetadata, Map<number, Readonly<Record<string, unknown>>>>();
function readBody(meta: KeyMetadata, n: number, data: Record<string, unknown> | null): Readonly<Record<string, unknown>> {
  if (!Object.isFrozen(meta)) return { data, metadata: versionMetadata(meta, n) };
  let byVersion = readBodies.get(meta);
  if (byVersion === undefined) readBodies.set(meta, (byVersion = new Map()));
  let body = byVersion.get(n);
  if (body === undefined) byVersion.set(n, (body = Object.freeze({ data, metadata: Object.freeze(versionMetadata(meta, n)) })));
  return body;
}

/** RFC 7396 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    // defineProperty, not assignment: a key named "__proto__" must stay data, not a prototype.
    else Object.defineProperty(out, k, { value: mergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function dataPath(deps: KvV2Deps): CompiledPath {
  const read = async (ctx: PathContext, d: FieldValues<typeof dataFields>): Promise<LogicalResponse | null> => {
    const found = await resolveVersion(ctx.req.storage, keyOf(ctx), d.version, deps.now());
    if (!found) return null;
    const body = readBody(found.meta, found.n, found.data);
    // Vault answers a deleted or destroyed version with 404 and its metadata: not an error.
    return found.live ? { data: body } : { data: body, httpStatus: 404 };
  };

  const write = async (ctx: PathContext, d: FieldValues<typeof dataFields>): Promise<LogicalResponse> => {
    if (!isPlainObject(d.data)) throw badRequest('no data provided');
    const data = d.data;
    return putVersion(deps, ctx.req.storage, keyOf(ctx), casOf(d.options), async () => data);
  };

  const patch = async (ctx: PathContext, d: FieldValues<typeof dataFields>): Promise<LogicalResponse> => {
    if (!isPlainObject(d.data)) throw badRequest('no data provided');
    const key = keyOf(ctx);
    const patchData = d.data;
    return putVersion(deps, ctx.req.storage, key, casOf(d.options), async (meta) => {
      const current = meta.versions[String(meta.current_version)];
      if (!current || current.destroyed || isDeleted(current, deps.now())) {
        throw new CofferError('not_found', 'no existing data found to patch');
      }
      const existing = (await readVersion(ctx.req.storage, meta, key, meta.current_version)) ?? {};
      return mergePatch(existing, patchData) as Record<string, unknown>;
    });
  };

  const softDeleteLatest = async (ctx: PathContext): Promise<null> => {
    const key = keyOf(ctx);
    await deps.mutex.run(key, async () => {
      const meta = await readMetadata(ctx.req.storage, key);
      const v = meta?.versions[String(meta.current_version)];
      if (!meta || !v || v.destroyed || isDeleted(v, deps.now())) return;
      const versions = { ...meta.versions, [String(meta.current_version)]: { ...v, deletion_time: rfc3339(deps.now()) } };
      await writeMetadata(ctx.req.storage, key, { ...meta, versions, updated_time: rfc3339(deps.now()) });
    });
    return null;
  };

  return definePath({
    pattern: `data/${matchAll('path')}`,
    fields: dataFields,
    existenceCheck: async (ctx) => (await readMetadata(ctx.req.storage, ctx.captures.path ?? '')) !== null,
    operations: {
      read: { summary: 'Read a version of a secret.', handler: read },
      create: { summary: 'Write a new version of a secret.', handler: write },
      update: { summary: 'Write a new version of a secret.', handler: write },
      patch: { summary: 'Merge a patch into the latest version.', handler: patch },
      delete: { summary: 'Soft-delete the latest version.', handler: softDeleteLatest },
    },
    help: { synopsis: 'Write, patch, read, and delete versioned secret data.', description: 'Each write creates a new version; reads return the latest or ?version=N.' },
  });
}
