import { definePath, type CompiledPath } from '../../framework/index.js';
import { deleteOp, getJSON, type StorageOp } from '../../logical/index.js';
import type { KeyedMutex } from '../../util/index.js';
import type { AccessorEntry, AppRoleKeys, SecretIdEntry } from './approle-store.js';
import { expired } from './path-secret-id.js';

/**
 * tidy/secret-id: remove expired secret-ids with their accessors, and accessors whose secret-id
 * is gone. Runs before answering (Vault answers 202 and runs it in the background; here the 202
 * means it is done).
 */
export function tidyPath(deps: { readonly keys: AppRoleKeys; readonly mutex: KeyedMutex }): CompiledPath {
  const { keys, mutex } = deps;
  return definePath({
    pattern: 'tidy/secret-id',
    fields: {},
    operations: {
      update: {
        summary: 'Remove expired secret-ids.',
        handler: async (ctx) => {
          const nowMs = ctx.system.clock.now();
          const live = new Set<string>();
          for (const folder of await ctx.storage.list('secret_id/')) {
            for (const h of await ctx.storage.list(`secret_id/${folder}`)) {
              const key = `secret_id/${folder}${h}`;
              await mutex.run(key, async () => {
                const entry = await getJSON<SecretIdEntry>(ctx.storage, key);
                if (!entry) return;
                if (expired(entry, nowMs)) {
                  await ctx.storage.transaction([deleteOp(key), deleteOp(await keys.accessorKey(entry.secret_id_accessor))]);
                } else {
                  live.add(await keys.accessorKey(entry.secret_id_accessor));
                }
              });
            }
          }
          const dangling: StorageOp[] = [];
          for (const a of await ctx.storage.list('accessor/')) {
            const key = `accessor/${a}`;
            if (live.has(key)) continue;
            const ref = await getJSON<AccessorEntry>(ctx.storage, key);
            if (!ref || !(await ctx.storage.get(await keys.secretIdKey(ref.role, ref.secret_id_hmac)))) dangling.push(deleteOp(key));
          }
          if (dangling.length) await ctx.storage.transaction(dangling);
          return { data: null, warnings: ['Tidy operation successfully started. Any information from the operation will be printed to Vault\'s server logs.'], httpStatus: 202 };
        },
      },
    },
    help: { synopsis: 'Tidy secret-ids.', description: 'Removes expired secret-ids and accessors left without a secret-id.' },
  });
}
