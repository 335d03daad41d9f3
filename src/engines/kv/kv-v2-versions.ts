import { definePath, field, matchAll, type CompiledPath, type PathContext } from '../../framework/index.js';
import { badRequest, deleteOp, type StorageOp } from '../../logical/index.js';
import { keyOf, resolveVersion, versionMetadata, type KvV2Deps } from './kv-v2-data.js';
import { isDeleted, layout, metadataOp, readMetadata, rfc3339, type VersionMeta } from './kv-store.js';

const versionsField = {
  path: field.string({ description: 'Location of the secret.' }),
  versions: field.strings({ description: 'The version numbers to act on.' }),
};

type VersionChange = (v: VersionMeta, nowMs: number) => VersionMeta | null;

const CHANGES: Record<'delete' | 'undelete' | 'destroy', { change: VersionChange; summary: string }> = {
  delete: {
    summary: 'Soft-delete the given versions; undelete can bring them back.',
    change: (v, now) => (v.destroyed || isDeleted(v, now) ? null : { ...v, deletion_time: rfc3339(now) }),
  },
  undelete: {
    summary: 'Restore soft-deleted versions.',
    change: (v) => (v.destroyed ? null : { ...v, deletion_time: '' }),
  },
  destroy: {
    summary: 'Permanently remove the data of the given versions.',
    change: (v) => (v.destroyed ? null : { ...v, destroyed: true }),
  },
};

function parseVersions(raw: readonly string[]): number[] {
  if (raw.length === 0) throw badRequest('no version number provided');
  return raw.map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n <= 0) throw badRequest('field "versions" must hold positive integers');
    return n;
  });
}

export function versionPaths(deps: KvV2Deps): CompiledPath[] {
  const paths = (Object.keys(CHANGES) as (keyof typeof CHANGES)[]).map((op) =>
    definePath({
      pattern: `${op}/${matchAll('path')}`,
      fields: versionsField,
      operations: {
        update: {
          summary: CHANGES[op].summary,
          handler: async (ctx: PathContext, d) => {
            const key = keyOf(ctx);
            const wanted = parseVersions(d.versions);
            await deps.mutex.run(key, async () => {
              const meta = await readMetadata(ctx.req.storage, key);
              if (!meta) return;
              const now = deps.now();
              const versions = { ...meta.versions };
              const destroyed: StorageOp[] = [];
              for (const n of wanted) {
                const v = versions[String(n)];
                const next = v ? CHANGES[op].change(v, now) : null;
                if (!next) continue;
                versions[String(n)] = next;
                if (op === 'destroy') destroyed.push(deleteOp(layout.version(meta, key, n)));
              }
              const latestGone = op === 'destroy' && meta.latest && wanted.includes(meta.latest.version);
              // The data goes in the same transaction as the metadata that records it gone.
              await ctx.req.storage.transaction([
                ...destroyed,
                metadataOp(key, { ...meta, versions, updated_time: rfc3339(now), ...(latestGone ? { latest: null } : {}) }),
              ]);
            });
            return null;
          },
        },
      },
      help: { synopsis: CHANGES[op].summary, description: CHANGES[op].summary },
    }),
  );

  const subkeys = definePath({
    pattern: `subkeys/${matchAll('path')}`,
    fields: {
      path: field.string({ description: 'Location of the secret.' }),
      version: field.int({ description: 'Version to read; 0 means the latest.' }),
      depth: field.int({ description: 'How deep to descend; 0 means no limit.' }),
    },
    operations: {
      read: {
        summary: 'Read the structure of a secret without its values.',
        handler: async (ctx, d) => {
          if (d.depth < 0) throw badRequest('depth must be non-negative');
          const found = await resolveVersion(ctx.req.storage, keyOf(ctx), d.version, deps.now());
          if (!found) return null;
          const body = { subkeys: found.data ? structure(found.data, d.depth, 1) : null, metadata: versionMetadata(found.meta, found.n) };
          return found.live ? { data: body } : { data: body, httpStatus: 404 };
        },
      },
    },
    help: { synopsis: 'Read the keys of a secret, values replaced by null.', description: 'Useful to see what a secret holds without reading it.' },
  });

  return [...paths, subkeys];
}

function structure(obj: Record<string, unknown>, depth: number, level: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const nested = typeof v === 'object' && v !== null && !Array.isArray(v);
    out[k] = nested && (depth === 0 || level < depth) ? structure(v as Record<string, unknown>, depth, level + 1) : null;
  }
  return out;
}
