import { AUTH_METHODS } from './auth/registry.js';
import { Core, type CoreOptions, type MountRequest } from './core/index.js';
import { ENGINES } from './engines/registry.js';

/** Everything a core needs but the registries, which this build fixes. */
export type ComposeOptions = Omit<CoreOptions, 'engines' | 'authMethods'>;

/**
 * The one place a core is built with this build's secrets engines and auth methods: the server
 * (main.ts) and both test helpers call it, so a test runs the wiring that production runs.
 */
export function composeCore(opts: ComposeOptions): Core {
  return new Core({ ...opts, engines: ENGINES, authMethods: AUTH_METHODS });
}

/** The mounts a dev server (and a test core) is initialised with: KV v2 at secret/. */
export const DEV_MOUNTS: readonly MountRequest[] = [
  { table: 'mounts', path: 'secret/', type: 'kv', description: 'key/value secret storage', options: { version: '2' } },
];
