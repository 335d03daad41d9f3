import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { configPath } from './config.js';
import { loginPath, renewLogin } from './path-login.js';
import { oidcPaths, PendingLogins } from './path-oidc.js';
import { rolePaths } from './path-role.js';
import { VerifierCache } from './provider.js';

/**
 * The JWT/OIDC auth method: workloads log in with a JWT their platform signed (CI jobs, cloud
 * workload identity, Kubernetes), people through their OpenID provider in a browser. The keys
 * are fetched once per mount and kept; OIDC logins under way are held in memory.
 */
export async function jwtBackend(ctx: BackendContext): Promise<Backend> {
  const verifiers = new VerifierCache(ctx.system.clock, ctx.system.logger);
  const pending = new PendingLogins(ctx.system.clock);
  return defineBackend({
    type: 'jwt',
    system: ctx.system,
    unauthenticatedPaths: ['login', 'oidc/auth_url', 'oidc/callback'],
    paths: [loginPath(verifiers), configPath(verifiers), ...rolePaths, ...oidcPaths(verifiers, pending)],
    renewAuth: renewLogin,
  });
}

export const jwtRegistration: BackendRegistration = { factory: jwtBackend };
