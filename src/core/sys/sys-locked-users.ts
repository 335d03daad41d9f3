import { definePath, field, type CompiledPath } from '../../framework/index.js';
import type { SysDeps } from './sys-deps.js';

/** sys/locked-users: the names user lockout holds locked, and unlocking one (Vault 1.13+). */
export function lockedUserPaths(deps: SysDeps): CompiledPath[] {
  return [
    definePath({
      pattern: 'locked-users/?',
      fields: { mount_accessor: field.string({ description: 'Only this auth mount.' }) },
      operations: {
        read: {
          summary: 'List locked users.',
          handler: async (_ctx, d) => {
            const byMount = [...deps.lockedUsers.list()]
              .filter(([accessor]) => !d.mount_accessor || accessor === d.mount_accessor)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([accessor, aliases]) => ({ mount_accessor: accessor, counts: aliases.length, alias_identifiers: aliases }));
            const total = byMount.reduce((n, m) => n + m.counts, 0);
            return { data: { by_namespace: total ? [{ namespace_id: 'root', namespace_path: '', counts: total, mount_accessors: byMount }] : [], total } };
          },
        },
      },
      help: { synopsis: 'List locked users.', description: 'The names locked out after repeated failed logins, by auth mount accessor.' },
    }),
    definePath({
      pattern: 'locked-users/(?<mount_accessor>[\\w-]+)/unlock/(?<alias_identifier>.+)',
      fields: {
        mount_accessor: field.string({ description: 'The auth mount.', required: true }),
        alias_identifier: field.string({ description: 'The locked name (a user name, a role id).', required: true }),
      },
      operations: {
        update: {
          summary: 'Unlock a user.',
          handler: async (_ctx, d) => {
            await deps.lockedUsers.unlock(d.mount_accessor, d.alias_identifier);
            return null;
          },
        },
      },
      help: { synopsis: 'Unlock a user.', description: 'Lifts a lockout before its duration has passed.' },
    }),
  ];
}
