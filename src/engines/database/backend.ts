import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { KeyedMutex } from '../../util/index.js';
import { Connections } from './connections.js';
import { configPaths } from './path-config.js';
import { credsSecret, rolePaths } from './path-roles.js';
import { rotateDue, staticRolePaths } from './path-static-roles.js';

/**
 * The database secrets engine: connections (config/), dynamic roles whose every read creates a
 * database user with a lease (roles/, creds/), and static roles whose existing user's password
 * coffer rotates (static-roles/, static-creds/, rotate-role/). Plugins: PostgreSQL,
 * MySQL/MariaDB (four flavours) and Redis.
 */
export async function databaseBackend(ctx: BackendContext): Promise<Backend> {
  const conns = new Connections(ctx.view);
  const rotation = { conns, mutex: new KeyedMutex() };
  return defineBackend({
    type: 'database',
    system: ctx.system,
    secrets: [credsSecret(conns)],
    paths: [...configPaths(conns), ...rolePaths(conns), ...staticRolePaths(rotation)],
    periodic: () => rotateDue(rotation, ctx.view, ctx.system),
    cleanup: () => conns.closeAll(),
  });
}

export const databaseRegistration: BackendRegistration = { factory: databaseBackend };
