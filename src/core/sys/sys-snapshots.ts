import { definePath, field, genericName, type CompiledPath, type PathContext } from '../../framework/index.js';
import { validateAutoSnapshotConfig } from '../snapshot/auto.js';
import { badRequest, type LogicalResponse } from '../../logical/index.js';
import type { SysDeps } from './sys-deps.js';

/** Vault's paths for integrated storage snapshots, which coffer serves for every storage type. */
export function snapshotPaths(deps: SysDeps): CompiledPath[] {
  const { snapshots, autoSnapshots: auto } = deps;
  const restore = (force: boolean) => async (ctx: PathContext): Promise<LogicalResponse | null> => {
    const file = ctx.req.body;
    if (!file || file.byteLength === 0) throw badRequest('no snapshot in the request body: send the snapshot file as the body');
    await snapshots.restore(file, { force });
    return null;
  };
  return [
    definePath({
      pattern: 'storage/raft/snapshot',
      fields: {},
      operations: {
        read: {
          summary: 'Save a snapshot of all storage.',
          handler: async () => ({ raw: await snapshots.save(), contentType: 'application/octet-stream' }),
        },
        update: { summary: 'Restore a snapshot of this server.', handler: restore(false) },
      },
      help: { synopsis: 'Save or restore a snapshot of all storage.', description: 'GET answers the snapshot file (still encrypted, checksummed); POST with a snapshot of this server as the body restores it. Requires sudo.' },
    }),
    definePath({
      pattern: 'storage/raft/snapshot-auto/config/?',
      fields: {},
      operations: { list: { summary: 'List the automated snapshot configurations.', handler: async () => ({ data: { keys: auto.names() } }) } },
      help: { synopsis: 'Automated snapshot configurations.', description: 'Their names. Requires sudo.' },
    }),
    definePath({
      pattern: `storage/raft/snapshot-auto/config/${genericName('name')}`,
      fields: {
        name: field.string({ description: 'Name of the configuration.' }),
        interval: field.durationSeconds({ description: 'Time between snapshots: seconds, or a duration such as "24h".' }),
        retain: field.int({ description: 'How many snapshots to keep (default 1); the oldest beyond go.' }),
        path_prefix: field.string({ description: 'The directory to write the snapshots in.' }),
        file_prefix: field.string({ description: 'How the snapshot files\' names start (default "vault-snapshot").' }),
        storage_type: field.string({ description: 'Where snapshots go: "local" (files).' }),
        local_max_space: field.raw({ description: 'Bytes all kept snapshots may take; 0 for no limit.' }),
      },
      operations: {
        read: {
          summary: 'Read an automated snapshot configuration.',
          handler: async (_ctx, d) => {
            const c = auto.config(d.name);
            return c ? { data: { ...c } } : null;
          },
        },
        update: {
          summary: 'Create or replace an automated snapshot configuration.',
          handler: async (ctx, d) => {
            const space = d.local_max_space;
            const bytes = space === undefined || space === null || space === '' ? null : typeof space === 'number' || (typeof space === 'string' && /^\d+$/.test(space)) ? Number(space) : NaN;
            const config = validateAutoSnapshotConfig({
              interval: d.interval,
              retain: ctx.provided.has('retain') ? d.retain : 1,
              path_prefix: d.path_prefix,
              file_prefix: d.file_prefix || 'vault-snapshot',
              storage_type: d.storage_type,
              local_max_space: bytes,
            });
            await auto.set(d.name, config);
            return null;
          },
        },
        delete: {
          summary: 'Delete an automated snapshot configuration.',
          handler: async (_ctx, d) => {
            await auto.delete(d.name);
            return null;
          },
        },
      },
      help: { synopsis: 'An automated snapshot configuration.', description: 'Every interval a snapshot file is written to path_prefix and the newest retain are kept. Requires sudo.' },
    }),
    definePath({
      pattern: `storage/raft/snapshot-auto/status/${genericName('name')}`,
      fields: { name: field.string({ description: 'Name of the configuration.' }) },
      operations: {
        read: {
          summary: 'Read how an automated snapshot configuration is doing.',
          handler: async (_ctx, d) => {
            const s = auto.status(d.name);
            return s ? { data: { ...s } } : null;
          },
        },
      },
      help: { synopsis: 'Status of an automated snapshot configuration.', description: 'Its last snapshot (start, end, error, file) and when the next is due.' },
    }),
    definePath({
      pattern: 'storage/raft/snapshot-force',
      fields: {},
      operations: { update: { summary: 'Restore a snapshot, of this server or another.', handler: restore(true) } },
      help: { synopsis: 'Restore a snapshot of any server.', description: 'A snapshot of another server leaves this one sealed, to be unsealed with that server\'s key shares. Requires sudo.' },
    }),
  ];
}

export const SNAPSHOT_SUDO_PATHS = ['storage/raft/snapshot', 'storage/raft/snapshot-force', 'storage/raft/snapshot-auto/config', 'storage/raft/snapshot-auto/config/*'];
