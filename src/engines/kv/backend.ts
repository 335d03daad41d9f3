import { defineBackend, definePath, field, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { badRequest, deleteOp, listRecursive, putJSON, type StorageView, type SystemView } from '../../logical/index.js';
import { KeyedMutex, formatDuration } from '../../util/index.js';
import { kvV1Backend } from './kv-v1.js';
import { dataPath, putVersion, type KvV2Deps } from './kv-v2-data.js';
import { metadataPaths } from './kv-v2-metadata.js';
import { versionPaths } from './kv-v2-versions.js';
import { layout, readConfig, readMetadata, type KvConfig } from './kv-store.js';

/** The KV version a mount's options ask for: "1" (the default) or "2". */
export function kvVersion(options: Readonly<Record<string, string>> | null): 1 | 2 {
  const v = options?.['version'] ?? '1';
  if (v === '1' || v === '') return 1;
  if (v === '2') return 2;
  throw badRequest('unsupported kv version: the "version" option must be 1 or 2');
}

/**
 * Build a KV backend for a mount. A mount tuned from version 1 to 2 has its values migrated
 * (each becomes version 1 of its key) before it serves; going back from 2 to 1 is refused.
 */
export async function kvBackend(ctx: BackendContext): Promise<Backend> {
  const version = kvVersion(ctx.options);
  const hasV2Data = (await ctx.view.list('metadata/')).length > 0;
  if (version === 1) {
    if (hasV2Data) throw badRequest('cannot downgrade a versioned kv mount to version 1');
    return kvV1Backend(ctx.system, async () => (await listRecursive(ctx.view, layout.v1(''))).length);
  }
  const deps: KvV2Deps = { mutex: new KeyedMutex(), now: () => ctx.system.clock.now() };
  await upgradeFromV1(ctx.view, deps);
  return kvV2Backend(deps, ctx.system, async () => (await listRecursive(ctx.view, layout.metadata(''))).length);
}

/** KV as the engine registry offers it: "kv" (version 1 unless asked), "kv-v1", "kv-v2", "generic". */
export const kvRegistration: BackendRegistration = {
  factory: kvBackend,
  defaultOptions: { version: '1' },
  aliases: { 'kv-v1': { version: '1' }, 'kv-v2': { version: '2' }, generic: {} },
  optionWarnings: (before, after) => {
    const from = before?.['version'] || '1';
    const to = after['version'] || '1';
    return from !== to ? [`Upgrading mount from version ${from} to version ${to}`] : [];
  },
};

/** Each v1 value becomes version 1 of its key; the copy and the removal are one transaction. */
async function upgradeFromV1(view: StorageView, deps: KvV2Deps): Promise<void> {
  for (const dataKey of await listRecursive(view, 'data/')) {
    const key = dataKey.slice('data/'.length);
    const raw = await view.get(dataKey);
    if (raw === null) continue;
    if ((await readMetadata(view, key)) !== null) {
      await view.delete(dataKey); // left by an upgrade from before the copy was transactional
      continue;
    }
    const data = JSON.parse(new TextDecoder().decode(raw)) as Record<string, unknown>;
    await putVersion(deps, view, key, undefined, async () => data, [deleteOp(layout.v1(key))]);
  }
}

function kvV2Backend(deps: KvV2Deps, system: SystemView, countSecrets: () => Promise<number>): Backend {
  const configFields = {
    max_versions: field.int({ description: 'Versions kept per key; 0 means 10.' }),
    cas_required: field.bool({ description: 'Require check-and-set on every write.' }),
    delete_version_after: field.durationSeconds({ description: 'Soft-delete versions this long after they are written.' }),
  };
  return defineBackend({
    type: 'kv',
    system,
    countSecrets,
    paths: [
      definePath({
        pattern: 'config',
        fields: configFields,
        operations: {
          read: {
            summary: 'Read the mount\'s KV settings.',
            handler: async (ctx) => {
              const c = await readConfig(ctx.req.storage);
              return { data: { cas_required: c.cas_required, delete_version_after: formatDuration(c.delete_version_after), max_versions: c.max_versions } };
            },
          },
          update: {
            summary: 'Change the mount\'s KV settings.',
            handler: async (ctx, d) => {
              if (d.max_versions < 0) throw badRequest('max_versions must be non-negative');
              const prior = await readConfig(ctx.req.storage);
              const next: KvConfig = {
                max_versions: ctx.provided.has('max_versions') ? d.max_versions : prior.max_versions,
                cas_required: ctx.provided.has('cas_required') ? d.cas_required : prior.cas_required,
                delete_version_after: ctx.provided.has('delete_version_after') ? d.delete_version_after : prior.delete_version_after,
              };
              await putJSON(ctx.req.storage, layout.config, next);
              return null;
            },
          },
        },
        help: { synopsis: 'Configure the KV mount.', description: 'Settings that apply to every key of the mount unless a key overrides them.' },
      }),
      dataPath(deps),
      ...metadataPaths(deps),
      ...versionPaths(deps),
    ],
  });
}
