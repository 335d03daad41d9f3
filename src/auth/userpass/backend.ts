import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { loginPath, renewLogin } from './path-login.js';
import { userPaths } from './path-users.js';
import { canonicalUser } from './user-store.js';

/** The userpass auth method: users with bcrypt-hashed passwords, who log in for a token. */
export async function userpassBackend(ctx: BackendContext): Promise<Backend> {
  return defineBackend({
    type: 'userpass',
    system: ctx.system,
    unauthenticatedPaths: ['login/*'],
    paths: [loginPath, ...userPaths],
    renewAuth: renewLogin,
    // Case and spacing variants of a name are one user, so they share one lockout counter.
    loginAlias: (req) => {
      const m = /^login\/(.+)$/.exec(req.path);
      return m ? canonicalUser(m[1]!) : null;
    },
  });
}

export const userpassRegistration: BackendRegistration = { factory: userpassBackend };
