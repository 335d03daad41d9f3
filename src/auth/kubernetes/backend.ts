import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { configPath } from './config.js';
import { loginPath, renewLogin } from './path-login.js';
import { rolePaths } from './path-role.js';

/**
 * The Kubernetes auth method: pods log in with their service-account JWT, which the cluster's
 * TokenReview API vouches for; roles bind service accounts and namespaces to policies.
 */
export async function kubernetesBackend(ctx: BackendContext): Promise<Backend> {
  return defineBackend({
    type: 'kubernetes',
    system: ctx.system,
    unauthenticatedPaths: ['login'],
    paths: [loginPath, configPath, ...rolePaths],
    renewAuth: renewLogin,
  });
}

export const kubernetesRegistration: BackendRegistration = { factory: kubernetesBackend };
