import { CofferError, badRequest, getJSON, type StorageView } from '../../logical/index.js';
import { OutboundError, sendJson, type Clock, type Logger } from '../../util/index.js';
import { RemoteKeys, StaticKeys, type KeySet } from './keys.js';

/** The mount's configuration (auth/<mount>/config). The client secret is kept, never returned. */
export interface JwtConfig {
  readonly oidc_discovery_url: string;
  readonly oidc_discovery_ca_pem: string;
  readonly oidc_client_id: string;
  readonly oidc_client_secret: string;
  readonly oidc_response_mode: string;
  readonly oidc_response_types: readonly string[];
  readonly jwks_url: string;
  readonly jwks_ca_pem: string;
  readonly jwt_validation_pubkeys: readonly string[];
  readonly jwt_supported_algs: readonly string[];
  readonly bound_issuer: string;
  readonly default_role: string;
  readonly namespace_in_state: boolean;
}

export const loadConfig = (view: StorageView): Promise<JwtConfig | null> => getJSON<JwtConfig>(view, 'config');

/** The OpenID provider's metadata (OpenID Connect Discovery 1.0 §3), the parts coffer uses. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly userinfo_endpoint: string;
  readonly jwks_uri: string;
}

/** What verifies a mount's tokens: its keys and, with OIDC discovery, the provider they belong to. */
export interface Verifier {
  readonly keys: KeySet;
  readonly provider: ProviderMetadata | null;
}

const stripSlash = (u: string) => u.replace(/\/+$/, '');

async function discover(url: string, caPem: string): Promise<ProviderMetadata> {
  let res: { status: number; body: unknown };
  try {
    res = await sendJson({ url: `${stripSlash(url)}/.well-known/openid-configuration`, caPem });
  } catch (e) {
    throw new CofferError('internal', `OIDC discovery failed: ${e instanceof OutboundError ? e.message : 'unknown error'}`);
  }
  if (res.status !== 200) throw new CofferError('internal', `OIDC discovery failed: HTTP ${res.status}`);
  const m = (res.body ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : '');
  const meta: ProviderMetadata = {
    issuer: str('issuer'),
    authorization_endpoint: str('authorization_endpoint'),
    token_endpoint: str('token_endpoint'),
    userinfo_endpoint: str('userinfo_endpoint'),
    jwks_uri: str('jwks_uri'),
  };
  // The issuer must be the URL it was discovered at (OpenID Connect Discovery §4.3).
  if (stripSlash(meta.issuer) !== stripSlash(url)) throw new CofferError('internal', 'OIDC discovery failed: the provider names an issuer other than the discovery URL');
  if (!meta.jwks_uri) throw new CofferError('internal', 'OIDC discovery failed: the provider names no jwks_uri');
  return meta;
}

/**
 * The verifier of each mount, built once per key configuration and kept while it stays the
 * same: the JWKS is fetched once, not per login, and discovery runs once. A build that fails is
 * not kept, so the next login tries again.
 */
export class VerifierCache {
  #current: { readonly fingerprint: string; readonly verifier: Promise<Verifier> } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Forget the verifier, so the next login fetches keys and discovers anew. */
  reset(): void {
    this.#current = null;
  }

  verifier(config: JwtConfig): Promise<Verifier> {
    const fingerprint = JSON.stringify([config.oidc_discovery_url, config.oidc_discovery_ca_pem, config.jwks_url, config.jwks_ca_pem, config.jwt_validation_pubkeys]);
    if (this.#current?.fingerprint === fingerprint) return this.#current.verifier;
    const verifier = this.#build(config);
    const entry = { fingerprint, verifier };
    this.#current = entry;
    verifier.catch(() => {
      if (this.#current === entry) this.#current = null;
    });
    return verifier;
  }

  async #build(config: JwtConfig): Promise<Verifier> {
    if (config.jwt_validation_pubkeys.length) return { keys: new StaticKeys(config.jwt_validation_pubkeys), provider: null };
    if (config.jwks_url) {
      const keys = new RemoteKeys(config.jwks_url, config.jwks_ca_pem, this.clock, this.logger);
      await keys.load();
      return { keys, provider: null };
    }
    if (config.oidc_discovery_url) {
      const provider = await discover(config.oidc_discovery_url, config.oidc_discovery_ca_pem);
      const keys = new RemoteKeys(provider.jwks_uri, config.oidc_discovery_ca_pem, this.clock, this.logger);
      await keys.load();
      return { keys, provider };
    }
    throw badRequest('could not load configuration');
  }
}
