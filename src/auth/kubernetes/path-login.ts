import { existsSync, readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { definePath, equivalentPolicies, field, grantFromSettings, renewalFromSettings, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest, type AuthRenewRequest, type AuthRenewal } from '../../logical/index.js';
import { globAny } from '../../util/index.js';
import { LOCAL_CA, LOCAL_JWT, loadConfig, type KubeConfig } from './config.js';
import { loadRole, parseSelector, selectorMatches } from './path-role.js';
import { namespaceLabels, reviewToken, type ReviewTarget } from './token-review.js';

const denied = (message: string) => new CofferError('permission_denied', message);

/** The service account a JWT names: legacy secret-based tokens and projected tokens alike. */
interface ServiceAccount {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly secretName: string;
}

function serviceAccountOf(claims: JWTPayload): ServiceAccount {
  const projected = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown; uid?: unknown } } | undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const sa = {
    namespace: str(projected?.namespace) || str(claims['kubernetes.io/serviceaccount/namespace']),
    name: str(projected?.serviceaccount?.name) || str(claims['kubernetes.io/serviceaccount/service-account.name']),
    uid: str(projected?.serviceaccount?.uid) || str(claims['kubernetes.io/serviceaccount/service-account.uid']),
    secretName: str(claims['kubernetes.io/serviceaccount/secret.name']),
  };
  if (!sa.namespace || !sa.name) throw denied('the JWT does not name a service account');
  return sa;
}

/** The JWT checked locally against the configured signing keys, when there are any. */
async function verifyLocally(jwt: string, config: KubeConfig): Promise<void> {
  for (const pem of config.pem_keys) {
    try {
      await jwtVerify(jwt, createPublicKey(pem));
      return;
    } catch {
      // try the next key
    }
  }
  throw denied('the JWT is not signed by any of the configured pem_keys, or has expired');
}

/** The API server, its CA and the token that authorises reviews: configured, else the pod's own, else the client's JWT. */
function reviewTarget(config: KubeConfig, clientJwt: string): ReviewTarget {
  const local = (file: string) => (!config.disable_local_ca_jwt && existsSync(file) ? readFileSync(file, 'utf8').trim() : '');
  return {
    host: config.kubernetes_host,
    caPem: config.kubernetes_ca_cert || local(LOCAL_CA),
    reviewerJwt: config.token_reviewer_jwt || local(LOCAL_JWT) || clientJwt,
  };
}

export const loginPath: CompiledPath = definePath({
  pattern: 'login',
  fields: {
    role: field.string({ description: 'The role to log in with.' }),
    jwt: field.string({ description: 'The service-account JWT.' }),
  },
  operations: {
    update: {
      summary: 'Log in with a service-account JWT.',
      handler: async (ctx, d) => {
        if (!d.role) throw badRequest('missing role');
        if (!d.jwt) throw badRequest('missing jwt');
        const role = await loadRole(ctx.storage, d.role);
        if (!role) throw badRequest('invalid role name');
        const config = await loadConfig(ctx.storage);
        if (!config) throw badRequest('the kubernetes auth method is not configured');

        let claims: JWTPayload;
        try {
          claims = decodeJwt(d.jwt);
        } catch {
          throw denied('the jwt is not a JWT');
        }
        if (config.pem_keys.length) await verifyLocally(d.jwt, config);
        const now = ctx.system.clock.now() / 1000;
        if (typeof claims.exp === 'number' && claims.exp <= now) throw denied('the JWT has expired');
        if (!config.disable_iss_validation) {
          const issuer = config.issuer || 'kubernetes/serviceaccount';
          if (claims.iss !== issuer) throw denied('invalid issuer (iss) claim');
        }
        if (role.audience) {
          const aud = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
          if (!aud.includes(role.audience)) throw denied('invalid audience (aud) claim');
        }
        const sa = serviceAccountOf(claims);
        if (!globAny(role.bound_service_account_names, sa.name)) throw denied('service account name not authorized');
        const target = reviewTarget(config, d.jwt);
        if (!globAny(role.bound_service_account_namespaces, sa.namespace)) {
          const selector = parseSelector(role.bound_service_account_namespace_selector);
          if (!selector || !selectorMatches(selector, await namespaceLabels(target, sa.namespace))) throw denied('namespace not authorized');
        }

        // The API server has the last word: the token must be live and name the same account.
        const reviewed = await reviewToken(target, d.jwt, role.audience ? [role.audience] : []);
        if (!reviewed.authenticated) throw denied('lookup failed: service account unauthorized; this could mean it has been deleted or recreated with a new token');
        if (reviewed.username !== `system:serviceaccount:${sa.namespace}:${sa.name}`) throw denied('JWT names were not the same');
        const uid = sa.uid || reviewed.uid;
        if (sa.uid && reviewed.uid && sa.uid !== reviewed.uid) throw denied('JWT UIDs did not match');

        const metadata = {
          service_account_name: sa.name,
          service_account_namespace: sa.namespace,
          service_account_uid: uid,
          service_account_secret_name: sa.secretName,
          role: d.role.toLowerCase(),
        };
        return {
          grant: {
            ...grantFromSettings(role),
            displayName: `${sa.namespace}-${sa.name}`,
            metadata,
            alias: { name: role.alias_name_source === 'serviceaccount_name' ? `${sa.namespace}/${sa.name}` : uid, metadata },
            internalData: { role: d.role.toLowerCase() },
          },
        };
      },
    },
  },
  help: { synopsis: 'Log in with a Kubernetes service account.', description: 'The JWT is checked by the cluster\'s TokenReview API (and locally against pem_keys when set).' },
});

/** A Kubernetes token renews only while its role exists with the policies it was issued. */
export async function renewLogin(req: AuthRenewRequest): Promise<AuthRenewal> {
  const name = typeof req.internalData.role === 'string' ? req.internalData.role : '';
  const role = name ? await loadRole(req.storage, name) : null;
  if (!role) throw badRequest('role no longer exists');
  if (!equivalentPolicies(role.token_policies, req.policies)) throw badRequest('policies have changed, not renewing');
  return renewalFromSettings(role);
}
