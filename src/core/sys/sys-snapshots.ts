import { definePath, type CompiledPath, type PathContext } from '../../framework/index.js';
import { badRequest, type LogicalResponse } from '../../logical/index.js';
import type { SysDeps } from './sys-deps.js';

/** Vault's paths for integrated storage snapshots, which coffer serves for every storage type. */
export function snapshotPaths(deps: SysDeps): CompiledPath[] {
  const { snapshots } = deps;
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
      pattern: 'storage/raft/snapshot-force',
      fields: {},
      operations: { update: { summary: 'Restore a snapshot, of this server or another.', handler: restore(true) } },
      help: { synopsis: 'Restore a snapshot of any server.', description: 'A snapshot of another server leaves this one sealed, to be unsealed with that server\'s key shares. Requires sudo.' },
    }),
  ];
}

export const SNAPSHOT_SUDO_PATHS = ['storage/raft/snapshot', 'storage/raft/snapshot-force', 'storage/raft/snapshot-auto/*'];
