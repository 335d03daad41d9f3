import { defineBackend, definePath, type Backend } from '../../framework/index.js';
import { capabilityPaths } from './sys-capabilities.js';
import type { SysDeps } from './sys-deps.js';
import { mountPaths } from './sys-mounts.js';
import { policyPaths } from './sys-policy.js';

/** Paths under sys/ that need sudo on top of their own capability (Vault's list, as far as coffer serves it). */
const SUDO_PATHS = ['auth/*', 'remount', 'seal', 'step-down', 'audit', 'audit/*', 'raw', 'raw/*', 'rotate', 'config/cors', 'config/auditing/*', 'config/ui/headers/*', 'plugins/catalog/*', 'revoke-prefix/*', 'revoke-force/*', 'leases/revoke-prefix/*', 'leases/revoke-force/*', 'leases/lookup/*', 'leases', 'internal/inspect/*'];

export function sysBackend(deps: SysDeps): Backend {
  return defineBackend({
    type: 'system',
    unauthenticatedPaths: ['internal/ui/mounts', 'internal/ui/mounts/*'],
    sudoPaths: SUDO_PATHS,
    paths: [
      ...mountPaths(deps),
      ...policyPaths(deps),
      ...capabilityPaths(deps),
      definePath({
        pattern: 'seal',
        fields: {},
        operations: {
          update: {
            summary: 'Seal the server.',
            handler: async () => {
              await deps.seal();
              return null;
            },
          },
        },
        help: { synopsis: 'Seal the server.', description: 'Drops the keys from memory; unsealing needs the key shares again. Requires sudo.' },
      }),
    ],
  });
}
