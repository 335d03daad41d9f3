import { X509Certificate } from 'node:crypto';
import { definePath, equivalentPolicies, field, grantFromSettings, renewalFromSettings, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest, getJSON, putJSON, type AuthRenewRequest, type AuthRenewal, type ConnectionInfo, type StorageView } from '../../logical/index.js';
import { cidrsAdmit, type Clock } from '../../util/index.js';
import { loadCert, parsePemBundle, type CertEntry } from './path-certs.js';
import { admits, chainsTo, parseClientCert, type ClientCert } from './verify.js';

/** The mount's settings (auth/<mount>/config). */
export interface CertConfig {
  /** When false (the default), a token renews only over a connection presenting the certificate it logged in with. */
  readonly disable_binding: boolean;
  readonly enable_identity_alias_metadata: boolean;
}

const DEFAULT_CONFIG: CertConfig = { disable_binding: false, enable_identity_alias_metadata: false };
const loadConfig = async (view: StorageView): Promise<CertConfig> => ({ ...DEFAULT_CONFIG, ...(await getJSON<CertConfig>(view, 'config')) });

/** Parsed trusted bundles, by their PEM: parsed once, not on every login. */
export class TrustedCerts {
  readonly #parsed = new Map<string, X509Certificate[]>();
  of(pem: string): X509Certificate[] {
    let certs = this.#parsed.get(pem);
    if (!certs) {
      certs = parsePemBundle(pem);
      if (this.#parsed.size >= 1000) this.#parsed.clear();
      this.#parsed.set(pem, certs);
    }
    return certs;
  }
}

const INVALID = 'invalid certificate or no client certificate supplied';

/**
 * The certs/ entry that admits the connection's certificate: the one named, or the first (by
 * name) whose certificate the presented chain leads to and whose constraints it meets.
 */
async function match(view: StorageView, trusted: TrustedCerts, clock: Clock, connection: ConnectionInfo, name: string): Promise<{ name: string; entry: CertEntry; client: ClientCert }> {
  if (connection.peerCertificates.length === 0) throw badRequest('client certificate must be supplied');
  // Every presented certificate takes part in the chain walk; only the leaf's names are read.
  const chain = connection.peerCertificates.map((der) => new X509Certificate(der));
  const leaf = parseClientCert(chain[0]!);
  const names = name ? [name.toLowerCase()] : await view.list('cert/');
  let chained = false;
  for (const n of names) {
    const entry = await loadCert(view, n);
    if (!entry) continue;
    if (!trusted.of(entry.certificate).some((t) => chainsTo(chain, t, clock.now()))) continue;
    chained = true;
    if (admits(entry, leaf)) return { name: n, entry, client: leaf };
  }
  throw badRequest(chained ? 'no chain matching all constraints could be found for this login certificate' : INVALID);
}

export function certLoginPaths(trusted: TrustedCerts): CompiledPath[] {
  return [
    definePath({
      pattern: 'login',
      fields: { name: field.string({ description: 'The certs/ entry to log in against; every entry when empty.' }) },
      operations: {
        update: {
          summary: 'Log in with the TLS client certificate of this connection.',
          handler: async (ctx, d) => {
            const { name, entry, client } = await match(ctx.storage, trusted, ctx.system.clock, ctx.req.connection, d.name);
            if (!cidrsAdmit(entry.token_bound_cidrs, ctx.req.connection.remoteAddress)) throw new CofferError('permission_denied', 'permission denied');
            const metadata: Record<string, string> = {
              cert_name: name,
              common_name: client.commonName,
              serial_number: client.serialNumber,
              subject_key_id: client.subjectKeyId,
              authority_key_id: client.authorityKeyId,
            };
            for (const oid of entry.allowed_metadata_extensions) {
              const v = client.extensions.get(oid);
              if (v !== undefined) metadata[oid.replaceAll('.', '-')] = v;
            }
            const config = await loadConfig(ctx.storage);
            return {
              grant: {
                ...grantFromSettings(entry),
                displayName: entry.display_name || name,
                metadata,
                alias: { name: client.commonName, ...(config.enable_identity_alias_metadata ? { metadata } : {}) },
                internalData: { cert_name: name, fingerprint: client.fingerprint },
              },
            };
          },
        },
      },
      help: { synopsis: 'Log in with a TLS client certificate.', description: 'The certificate the client presented on this TLS connection must chain to a certs/ entry and meet its constraints.' },
    }),
    definePath({
      pattern: 'config',
      fields: {
        disable_binding: field.bool({ description: 'Let tokens renew without presenting the certificate they logged in with.' }),
        enable_identity_alias_metadata: field.bool({ description: 'Copy the login metadata onto the entity alias.' }),
      },
      operations: {
        read: { summary: 'Read the configuration.', handler: async (ctx) => ({ data: { ...(await loadConfig(ctx.storage)) } }) },
        update: {
          summary: 'Configure the method.',
          handler: async (ctx, d) => {
            const current = await loadConfig(ctx.storage);
            const config: CertConfig = {
              disable_binding: ctx.provided.has('disable_binding') ? d.disable_binding : current.disable_binding,
              enable_identity_alias_metadata: ctx.provided.has('enable_identity_alias_metadata') ? d.enable_identity_alias_metadata : current.enable_identity_alias_metadata,
            };
            await putJSON(ctx.storage, 'config', config);
            return null;
          },
        },
      },
      help: { synopsis: 'Configure the cert auth method.', description: 'Whether renewals must present the login certificate, and alias metadata.' },
    }),
  ];
}

/**
 * A certificate token renews while its certs/ entry exists with the policies it was issued and,
 * unless disable_binding, only over a connection presenting the same certificate, still trusted.
 */
export function renewLogin(trusted: TrustedCerts, clock: Clock): (req: AuthRenewRequest) => Promise<AuthRenewal> {
  return async (req) => {
    const name = typeof req.internalData.cert_name === 'string' ? req.internalData.cert_name : '';
    const entry = name ? await loadCert(req.storage, name) : null;
    if (!entry) throw badRequest('the certificate entry this token logged in with no longer exists');
    if (!equivalentPolicies(entry.token_policies, req.policies)) throw badRequest('policies have changed, not renewing');
    if (!(await loadConfig(req.storage)).disable_binding) {
      const { client } = await match(req.storage, trusted, clock, req.connection, name);
      if (client.fingerprint !== req.internalData.fingerprint) throw badRequest('client certificate does not match the one this token logged in with');
    }
    return renewalFromSettings(entry);
  };
}
