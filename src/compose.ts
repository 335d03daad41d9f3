import { AUDIT_SINKS } from './audit/index.js';
import { AUTH_METHODS } from './auth/index.js';
import { Core, type CoreOptions, type MountRequest } from './core/index.js';
import { ENGINES } from './engines/index.js';
import type { BackendRegistry } from './framework/index.js';
import type { AuditSinkRegistry } from './logical/index.js';

/** Everything a core needs but what this build fixes: its registries and standard mounts. */
export type ComposeOptions = Omit<CoreOptions, 'engines' | 'authMethods' | 'standardMounts' | 'auditSinks'>;

/** Every server has a cubbyhole: each token's private storage. */
const STANDARD_MOUNTS: readonly MountRequest[] = [
  { table: 'mounts', path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true },
];

/**
 * The one place a core is built with this build's secrets engines and auth methods: the server
 * (main.ts) and both test helpers call it, so a test runs the wiring that production runs. Tests
 * may add engines and audit device types of their own (a stand-in that mints secrets, a device
 * that keeps its entries in memory), never replace this build's.
 */
export function composeCore(opts: ComposeOptions, testing: { engines?: BackendRegistry; auditSinks?: AuditSinkRegistry } = {}): Core {
  return new Core({
    ...opts,
    engines: { ...ENGINES, ...testing.engines },
    authMethods: AUTH_METHODS,
    standardMounts: STANDARD_MOUNTS,
    auditSinks: { ...AUDIT_SINKS, ...testing.auditSinks },
  });
}

/** The mounts a dev server (and a test core) is initialised with: KV v2 at secret/. */
export const DEV_MOUNTS: readonly MountRequest[] = [
  { table: 'mounts', path: 'secret/', type: 'kv', description: 'key/value secret storage', options: { version: '2' } },
];
