import { defineBackend, type Backend, type BackendContext, type BackendRegistration } from '../../framework/index.js';
import { certPaths } from './path-certs.js';
import { certLoginPaths, renewLogin, TrustedCerts } from './path-login.js';

/**
 * The TLS certificate auth method: a client logs in with the certificate it presented on the
 * TLS connection, which must chain to a trusted certs/ entry and carry the names it requires.
 */
export async function certBackend(ctx: BackendContext): Promise<Backend> {
  const trusted = new TrustedCerts();
  return defineBackend({
    type: 'cert',
    system: ctx.system,
    unauthenticatedPaths: ['login'],
    paths: [...certLoginPaths(trusted), ...certPaths],
    renewAuth: renewLogin(trusted, ctx.system.clock),
  });
}

export const certRegistration: BackendRegistration = { factory: certBackend };
