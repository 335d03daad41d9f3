import { X509Certificate } from 'node:crypto';
import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest, putJSON } from '../../logical/index.js';
import { SIGNING_ALGORITHMS, StaticKeys } from './keys.js';
import { loadConfig, type JwtConfig, type VerifierCache } from './provider.js';

function checkUrl(name: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`field "${name}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`field "${name}" must be an http:// or https:// URL`);
}

function checkCaPem(name: string, pem: string): void {
  if (!pem) return;
  try {
    new X509Certificate(pem);
  } catch {
    throw badRequest(`field "${name}" is not a PEM-encoded certificate`);
  }
}

/** The config as sent, checked the way Vault checks it; the key source is reached before it is saved. */
function validated(d: {
  oidc_discovery_url: string;
  oidc_discovery_ca_pem: string;
  oidc_client_id: string;
  oidc_client_secret: string;
  oidc_response_mode: string;
  oidc_response_types: string[];
  jwks_url: string;
  jwks_ca_pem: string;
  jwt_validation_pubkeys: string[];
  jwt_supported_algs: string[];
  bound_issuer: string;
  default_role: string;
  namespace_in_state: boolean;
  provider_config: Record<string, unknown>;
}): JwtConfig {
  const sources = [d.oidc_discovery_url !== '', d.jwks_url !== '', d.jwt_validation_pubkeys.length > 0].filter(Boolean).length;
  if (sources !== 1) throw badRequest("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
  if ((d.oidc_client_id === '') !== (d.oidc_client_secret === '')) throw badRequest("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");
  if (d.oidc_client_id && !d.oidc_discovery_url) throw badRequest("'oidc_discovery_url' must be set for OIDC");
  if (d.oidc_discovery_url) checkUrl('oidc_discovery_url', d.oidc_discovery_url);
  if (d.jwks_url) checkUrl('jwks_url', d.jwks_url);
  checkCaPem('oidc_discovery_ca_pem', d.oidc_discovery_ca_pem);
  checkCaPem('jwks_ca_pem', d.jwks_ca_pem);
  if (d.jwt_validation_pubkeys.length) new StaticKeys(d.jwt_validation_pubkeys);
  if (d.jwt_supported_algs.some((a) => !(SIGNING_ALGORITHMS as readonly string[]).includes(a))) {
    throw badRequest(`invalid jwt_supported_algs: the supported algorithms are ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  if (d.oidc_response_types.some((t) => t !== 'code' && t !== 'id_token')) throw badRequest("invalid oidc_response_types: 'code' and 'id_token' are allowed");
  if (d.oidc_response_types.includes('id_token')) throw badRequest('oidc_response_types "id_token" (the implicit flow) is not supported yet; use "code"');
  if (d.oidc_response_mode !== '' && d.oidc_response_mode !== 'query' && d.oidc_response_mode !== 'form_post') throw badRequest('invalid oidc_response_mode: "query" and "form_post" are allowed');
  if (d.oidc_response_mode === 'form_post') throw badRequest('oidc_response_mode "form_post" is not supported yet; use "query"');
  if (Object.keys(d.provider_config).length) throw badRequest('provider_config (provider-specific group fetching) is not supported yet');
  return {
    // Stored without the .well-known part, as Vault stores it.
    oidc_discovery_url: d.oidc_discovery_url.split('.well-known/openid-configuration')[0]!,
    oidc_discovery_ca_pem: d.oidc_discovery_ca_pem,
    oidc_client_id: d.oidc_client_id,
    oidc_client_secret: d.oidc_client_secret,
    oidc_response_mode: d.oidc_response_mode,
    oidc_response_types: d.oidc_response_types,
    jwks_url: d.jwks_url,
    jwks_ca_pem: d.jwks_ca_pem,
    jwt_validation_pubkeys: d.jwt_validation_pubkeys,
    jwt_supported_algs: d.jwt_supported_algs,
    bound_issuer: d.bound_issuer,
    default_role: d.default_role.toLowerCase(),
    namespace_in_state: d.namespace_in_state,
  };
}

export function configPath(verifiers: VerifierCache): CompiledPath {
  return definePath({
    pattern: 'config',
    fields: {
      oidc_discovery_url: field.string({ description: 'Base URL of the OIDC provider, without ".well-known/openid-configuration".' }),
      oidc_discovery_ca_pem: field.string({ description: 'PEM of the CAs to trust when reaching the OIDC provider.' }),
      oidc_client_id: field.string({ description: 'OAuth client id, for OIDC roles.' }),
      oidc_client_secret: field.string({ description: 'OAuth client secret, for OIDC roles.' }),
      oidc_response_mode: field.string({ description: 'OAuth response mode: "query" (the default).' }),
      oidc_response_types: field.strings({ description: 'OAuth response types: "code" (the default).' }),
      jwks_url: field.string({ description: 'URL of a JWKS whose keys sign the JWTs.' }),
      jwks_ca_pem: field.string({ description: 'PEM of the CAs to trust when fetching the JWKS.' }),
      jwt_validation_pubkeys: field.strings({ description: 'PEM public keys that sign the JWTs.' }),
      jwt_supported_algs: field.strings({ description: 'Signing algorithms accepted; every asymmetric one when empty.' }),
      bound_issuer: field.string({ description: 'The "iss" claim JWTs must carry.' }),
      default_role: field.string({ description: 'The role used when a login names none.' }),
      namespace_in_state: field.bool({ description: 'Accepted for compatibility; coffer has no namespaces.', default: true }),
      provider_config: field.map({ description: 'Provider-specific settings (not supported yet).' }),
    },
    operations: {
      read: {
        summary: 'Read the configuration.',
        handler: async (ctx) => {
          const c = await loadConfig(ctx.storage);
          if (!c) return null;
          const shown: Record<string, unknown> = { ...c, provider_config: {}, status: 'valid' };
          delete shown['oidc_client_secret'];
          return { data: shown };
        },
      },
      update: {
        summary: 'Configure how JWTs are verified.',
        handler: async (ctx, d) => {
          const config = validated(d);
          const warnings: string[] = [];
          if (config.oidc_discovery_url !== d.oidc_discovery_url) warnings.push('the ".well-known/openid-configuration" part of oidc_discovery_url was removed');
          // The key source must answer before the config is taken: a typo'd URL is refused now,
          // not at the first login.
          verifiers.reset();
          try {
            await verifiers.verifier(config);
          } catch (e) {
            if (e instanceof CofferError && e.code === 'invalid_request') throw e;
            ctx.system.logger.warn('checking the JWT key source failed', { error: e instanceof Error ? e.message : String(e) });
            throw badRequest(config.jwks_url ? 'error checking jwks URL' : 'error checking oidc discovery URL');
          }
          await putJSON(ctx.storage, 'config', config);
          return warnings.length ? { data: {}, warnings } : null;
        },
      },
    },
    help: { synopsis: 'Configure the JWT/OIDC auth method.', description: 'Exactly one key source: jwt_validation_pubkeys, jwks_url, or oidc_discovery_url (with a client id and secret for OIDC logins).' },
  });
}
