import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { KeyedMutex } from '../../util/index.js';
import { AppRoleKeys } from './approle-store.js';
import { loginPath, renewLogin } from './path-login.js';
import { rolePaths } from './path-role.js';
import { secretIdPaths } from './path-secret-id.js';
import { tidyPath } from './path-tidy.js';

/** The AppRole auth method: machines log in with a role id and a secret-id issued to them. */
export async function approleBackend(ctx: BackendContext): Promise<Backend> {
  const deps = { keys: new AppRoleKeys(ctx.view), mutex: new KeyedMutex() };
  return defineBackend({
    type: 'approle',
    system: ctx.system,
    unauthenticatedPaths: ['login'],
    paths: [loginPath(deps), ...secretIdPaths(deps), ...rolePaths(deps), tidyPath(deps)],
    renewAuth: renewLogin(deps.keys),
    loginAlias: (req) => (req.path === 'login' && typeof req.data.role_id === 'string' && req.data.role_id !== '' ? req.data.role_id : null),
  });
}

export const approleRegistration: BackendRegistration = { factory: approleBackend };
