import { definePath, field, matchAll, parseDuration, parseStringMap, type CompiledPath, type PathContext } from '../../framework/index.js';
import { badRequest, deleteOp, type LogicalResponse } from '../../logical/index.js';
import { formatDuration } from '../../util/index.js';
import { keyOf, mergePatch, type KvV2Deps } from './kv-v2-data.js';
import { emptyMetadata, layout, listUnder, readMetadata, rfc3339, writeMetadata, type KeyMetadata } from './kv-store.js';

const metaFields = {
  path: field.string({ description: 'Location of the secret.' }),
  max_versions: field.int({ description: 'Versions to keep; 0 uses the mount setting.' }),
  cas_required: field.bool({ description: 'Require check-and-set on every write of this key.' }),
  delete_version_after: field.durationSeconds({ description: 'Soft-delete versions this long after they are written.' }),
  custom_metadata: field.raw({ description: 'Up to 64 string pairs of caller metadata.' }),
};

/** Vault's limits on custom_metadata. */
function validateCustomMetadata(raw: unknown): Record<string, string> | null {
  if (raw === null) return null;
  const map = parseStringMap(raw, 'custom_metadata');
  const entries = Object.entries(map);
  if (entries.length > 64) throw badRequest('custom_metadata may hold at most 64 keys');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128) throw badRequest('custom_metadata keys must be 1 to 128 characters');
    if (v.length > 512) throw badRequest('custom_metadata values must be at most 512 characters');
    if (/[\x00-\x1f\x7f]/.test(k) || /[\x00-\x1f\x7f]/.test(v)) throw badRequest('custom_metadata must not contain control characters');
  }
  return entries.length ? map : null;
}

export function describeMetadata(meta: KeyMetadata): Record<string, unknown> {
  return {
    cas_required: meta.cas_required,
    created_time: meta.created_time,
    current_version: meta.current_version,
    custom_metadata: meta.custom_metadata,
    delete_version_after: formatDuration(meta.delete_version_after),
    max_versions: meta.max_versions,
    oldest_version: meta.oldest_version,
    updated_time: meta.updated_time,
    versions: meta.versions,
  };
}

export function metadataPaths(deps: KvV2Deps): CompiledPath[] {
  const write = async (ctx: PathContext, patchMode: boolean): Promise<LogicalResponse | null> => {
    const key = keyOf(ctx);
    const data = ctx.req.data;
    return deps.mutex.run(key, async () => {
      const now = rfc3339(deps.now());
      const prior = await readMetadata(ctx.req.storage, key);
      if (patchMode && !prior) return null;
      let meta: KeyMetadata = prior ?? emptyMetadata(now);
      const has = (k: string) => Object.hasOwn(data, k) && data[k] !== undefined;
      if (has('max_versions')) {
        const n = metaFields.max_versions.parse(data['max_versions'], 'max_versions');
        if (n < 0) throw badRequest('max_versions must be non-negative');
        meta = { ...meta, max_versions: n };
      }
      if (has('cas_required')) meta = { ...meta, cas_required: metaFields.cas_required.parse(data['cas_required'], 'cas_required') };
      if (has('delete_version_after')) meta = { ...meta, delete_version_after: parseDuration(data['delete_version_after'], 'delete_version_after') };
      if (has('custom_metadata')) {
        const next = patchMode ? mergePatch(meta.custom_metadata ?? {}, data['custom_metadata']) : data['custom_metadata'];
        meta = { ...meta, custom_metadata: validateCustomMetadata(next) };
      }
      await writeMetadata(ctx.req.storage, key, { ...meta, updated_time: now });
      return null;
    });
  };

  return [
    definePath({
      pattern: `metadata/${matchAll('path')}`,
      fields: metaFields,
      existenceCheck: async (ctx) => (await readMetadata(ctx.req.storage, ctx.captures.path ?? '')) !== null,
      operations: {
        read: {
          summary: 'Read the metadata and version history of a key.',
          handler: async (ctx) => {
            const meta = await readMetadata(ctx.req.storage, keyOf(ctx));
            return meta ? { data: describeMetadata(meta) } : null;
          },
        },
        create: { summary: 'Create or update key metadata.', handler: (ctx) => write(ctx, false) },
        update: { summary: 'Create or update key metadata.', handler: (ctx) => write(ctx, false) },
        patch: { summary: 'Merge-patch key metadata.', handler: (ctx) => write(ctx, true) },
        delete: {
          summary: 'Delete the key with all its versions.',
          handler: async (ctx) => {
            const key = keyOf(ctx);
            await deps.mutex.run(key, async () => {
              const meta = await readMetadata(ctx.req.storage, key);
              if (!meta) return;
              await ctx.req.storage.transaction([
                ...Object.keys(meta.versions).map((n) => deleteOp(layout.version(meta, key, Number(n)))),
                deleteOp(layout.metadata(key)),
              ]);
            });
            return null;
          },
        },
        list: {
          summary: 'List keys under a prefix.',
          handler: async (ctx) => listUnder(ctx.req.storage, layout.metadata(''), ctx.captures.path ?? ''),
        },
      },
      help: { synopsis: 'Configure and inspect a key\'s versions.', description: 'Metadata applies to every version of a key.' },
    }),
  ];
}
