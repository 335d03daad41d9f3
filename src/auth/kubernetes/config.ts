import { X509Certificate, createPublicKey } from 'node:crypto';
import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';

/** The mount's view of its cluster. The reviewer JWT is kept, never returned. */
export interface KubeConfig {
  readonly kubernetes_host: string;
  readonly kubernetes_ca_cert: string;
  readonly token_reviewer_jwt: string;
  readonly pem_keys: readonly string[];
  readonly issuer: string;
  readonly disable_iss_validation: boolean;
  readonly disable_local_ca_jwt: boolean;
}

export const loadConfig = (view: StorageView): Promise<KubeConfig | null> => getJSON<KubeConfig>(view, 'config');

/** Where a pod finds its own service-account token and CA (Vault reads them when it runs in a pod). */
export const LOCAL_JWT = '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const LOCAL_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

function checkPem(name: string, pem: string, kind: 'certificate' | 'key'): void {
  try {
    if (kind === 'certificate') new X509Certificate(pem);
    else createPublicKey(pem);
  } catch {
    throw badRequest(`field "${name}" is not a PEM-encoded ${kind === 'certificate' ? 'certificate' : 'public key'}`);
  }
}

export const configPath: CompiledPath = definePath({
  pattern: 'config',
  fields: {
    kubernetes_host: field.string({ description: 'https://host:port of the Kubernetes API server.' }),
    kubernetes_ca_cert: field.string({ description: 'PEM of the CA of the API server\'s certificate.' }),
    token_reviewer_jwt: field.string({ description: 'A service-account JWT allowed to create TokenReviews.' }),
    pem_keys: field.strings({ description: 'PEM public keys that sign service-account JWTs, to verify them locally too.' }),
    issuer: field.string({ description: 'The JWT issuer to require (with disable_iss_validation=false).' }),
    disable_iss_validation: field.bool({ description: 'Do not check the JWT issuer.', default: true }),
    disable_local_ca_jwt: field.bool({ description: 'Do not use the pod\'s own CA and service-account token.' }),
  },
  operations: {
    read: {
      summary: 'Read the configuration.',
      handler: async (ctx) => {
        const c = await loadConfig(ctx.storage);
        if (!c) return null;
        const { token_reviewer_jwt, ...shown } = c;
        return { data: { ...shown, token_reviewer_jwt_set: token_reviewer_jwt !== '' } };
      },
    },
    update: {
      summary: 'Configure the cluster.',
      handler: async (ctx, d) => {
        const current = await loadConfig(ctx.storage);
        const sent = (k: string) => ctx.provided.has(k);
        const host = sent('kubernetes_host') ? d.kubernetes_host : (current?.kubernetes_host ?? '');
        if (!host) throw badRequest('no host provided');
        let url: URL;
        try {
          url = new URL(host);
        } catch {
          throw badRequest('field "kubernetes_host" is not a URL');
        }
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest('field "kubernetes_host" must be an https:// URL');
        if (d.kubernetes_ca_cert) checkPem('kubernetes_ca_cert', d.kubernetes_ca_cert, 'certificate');
        d.pem_keys.forEach((k, i) => checkPem(`pem_keys[${i}]`, k, 'key'));
        const config: KubeConfig = {
          kubernetes_host: host,
          kubernetes_ca_cert: sent('kubernetes_ca_cert') ? d.kubernetes_ca_cert : (current?.kubernetes_ca_cert ?? ''),
          token_reviewer_jwt: sent('token_reviewer_jwt') ? d.token_reviewer_jwt : (current?.token_reviewer_jwt ?? ''),
          pem_keys: sent('pem_keys') ? d.pem_keys : (current?.pem_keys ?? []),
          issuer: sent('issuer') ? d.issuer : (current?.issuer ?? ''),
          disable_iss_validation: sent('disable_iss_validation') || !current ? d.disable_iss_validation : current.disable_iss_validation,
          disable_local_ca_jwt: sent('disable_local_ca_jwt') || !current ? d.disable_local_ca_jwt : current.disable_local_ca_jwt,
        };
        await putJSON(ctx.storage, 'config', config);
        return null;
      },
    },
  },
  help: { synopsis: 'Configure the Kubernetes cluster.', description: 'The API server, its CA, and how service-account tokens are reviewed.' },
});
