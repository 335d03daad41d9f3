import { defineBackend, type Backend, type BackendContext } from '../../framework/index.js';
import { auditPaths } from './sys-audit.js';
import { diagnosticPaths } from './sys-diagnostics.js';
import { keyPaths } from './sys-keys.js';
import { metricsPaths } from './sys-metrics.js';
import { wrappingPaths } from './sys-wrapping.js';
import { capabilityPaths } from './sys-capabilities.js';
import type { SysDeps } from './sys-deps.js';
import { leasePaths } from './sys-leases.js';
import { lockedUserPaths } from './sys-locked-users.js';
import { passwordPolicyPaths } from './sys-password-policies.js';
import { mountPaths } from './sys-mounts.js';
import { policyPaths } from './sys-policy.js';
import { rootKeyPaths, UNAUTHENTICATED_KEY_PATHS } from './sys-root-keys.js';
import { quotaPaths } from './sys-quotas.js';
import { SNAPSHOT_SUDO_PATHS, snapshotPaths } from './sys-snapshots.js';
import { SEALED_PATHS, UNAUTHENTICATED_SEAL_PATHS, sealPaths } from './sys-seal.js';

/** Paths under sys/ that need sudo on top of their own capability (Vault's list, as far as coffer serves it). */
const SUDO_PATHS = ['auth/*', 'remount', 'seal', 'step-down', 'audit', 'audit/*', 'raw', 'raw/*', 'rotate', 'rekey/backup', 'config/cors', 'config/auditing/*', 'config/state/*', 'config/ui/headers/*', 'plugins/catalog/*', 'revoke-prefix/*', 'revoke-force/*', 'leases/revoke-prefix/*', 'leases/revoke-force/*', 'leases/lookup/*', 'leases', 'internal/inspect/*'];

export function sysBackend(ctx: Pick<BackendContext, 'system'>, deps: SysDeps): Backend {
  return defineBackend({
    type: 'system',
    system: ctx.system,
    unauthenticatedPaths: ['internal/ui/mounts', 'internal/ui/mounts/*', 'wrapping/lookup', ...UNAUTHENTICATED_SEAL_PATHS, ...UNAUTHENTICATED_KEY_PATHS],
    sealedPaths: SEALED_PATHS,
    sudoPaths: [...SUDO_PATHS, ...SNAPSHOT_SUDO_PATHS],
    paths: [...sealPaths(deps), ...mountPaths(deps), ...policyPaths(deps), ...capabilityPaths(deps), ...leasePaths(deps), ...passwordPolicyPaths(deps), ...lockedUserPaths(deps), ...auditPaths(deps), ...metricsPaths(deps), ...diagnosticPaths(deps), ...wrappingPaths(deps), ...keyPaths(deps), ...rootKeyPaths(deps), ...snapshotPaths(deps), ...quotaPaths(deps)],
  });
}
