import type { BackendRegistry } from '../framework/index.js';
import { approleRegistration } from './approle/index.js';
import { certRegistration } from './cert/index.js';
import { jwtRegistration } from './jwt/index.js';
import { kubernetesRegistration } from './kubernetes/index.js';
import { userpassRegistration } from './userpass/index.js';

/**
 * The auth methods this build offers, by mount type. The token method is part of the core (it
 * owns the token store); the methods that log workloads in (approle, userpass, kubernetes, jwt,
 * cert) are registered here as they arrive, each in src/auth/<type>/.
 */
export const AUTH_METHODS: BackendRegistry = {
  approle: approleRegistration,
  cert: certRegistration,
  jwt: jwtRegistration,
  // Vault mounts the same method as "oidc" for browser logins.
  oidc: jwtRegistration,
  kubernetes: kubernetesRegistration,
  userpass: userpassRegistration,
};
