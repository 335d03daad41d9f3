import { createHash } from 'node:crypto';
import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { CofferError, badRequest } from '../../logical/index.js';
import { OutboundError, randomBase62, sendJson, type Clock } from '../../util/index.js';
import { claimAt } from './claims.js';
import { algorithmsOf, checkLoginAddress, grantFor, roleFor } from './path-login.js';
import { loadRole } from './path-role.js';
import { loadConfig, type ProviderMetadata, type VerifierCache } from './provider.js';
import { audiencesOf, checkAudience, checkRegisteredClaims } from './validate.js';

/** One OIDC login under way, from auth_url to callback, named by its state. */
interface PendingLogin {
  readonly role: string;
  readonly redirectUri: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly clientNonce: string;
  readonly expiresAt: number;
}

const REQUEST_TTL_MS = 10 * 60_000;
/** auth_url is unauthenticated: the logins it may hold open at once are bounded. */
const MAX_PENDING = 10_000;

/** Logins under way, in memory: a state is used once, and lapses after ten minutes. */
export class PendingLogins {
  readonly #byState = new Map<string, PendingLogin>();
  constructor(private readonly clock: Clock) {}

  add(login: Omit<PendingLogin, 'expiresAt'>): string {
    const now = this.clock.now();
    if (this.#byState.size >= MAX_PENDING) {
      for (const [state, p] of this.#byState) if (p.expiresAt <= now) this.#byState.delete(state);
      if (this.#byState.size >= MAX_PENDING) throw new CofferError('rate_limited', 'too many OIDC logins under way; try again later');
    }
    const state = randomBase62(32);
    this.#byState.set(state, { ...login, expiresAt: now + REQUEST_TTL_MS });
    return state;
  }

  /** The login a state names, taken out so that it cannot be used twice. */
  take(state: string): PendingLogin | null {
    const p = this.#byState.get(state);
    if (!p) return null;
    this.#byState.delete(state);
    return p.expiresAt > this.clock.now() ? p : null;
  }
}

const FAILED = 'Vault login failed.';
const failed = (message: string) => badRequest(`${FAILED} ${message}`);

/** A redirect URI one of the allowed ones, comparing loopback URIs without their port (RFC 8252 §7.3). */
export function redirectAllowed(uri: string, allowed: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  const loopback = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
  if (!loopback(u.hostname)) return allowed.includes(uri);
  const portless = (x: URL) => {
    const c = new URL(x.href);
    c.port = '';
    return c.href;
  };
  return allowed.some((a) => {
    try {
      const au = new URL(a);
      return loopback(au.hostname) && portless(au) === portless(u);
    } catch {
      return false;
    }
  });
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The provider's answer to the authorization code: its ID token, checked; its access token for userinfo. */
async function exchange(provider: ProviderMetadata, caPem: string, clientId: string, clientSecret: string, login: PendingLogin, code: string): Promise<{ idToken: string; accessToken: string }> {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  let res: { status: number; body: unknown };
  try {
    res = await sendJson({
      url: provider.token_endpoint,
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: login.redirectUri, code_verifier: login.codeVerifier, client_id: clientId }),
      caPem,
    });
  } catch (e) {
    throw failed(`Error exchanging oidc code: ${e instanceof OutboundError ? e.message : 'the provider could not be reached'}.`);
  }
  const body = (res.body ?? {}) as Record<string, unknown>;
  // Only the OAuth error code is repeated: a provider's description may quote what it was sent.
  if (res.status !== 200) throw failed(`Error exchanging oidc code: ${typeof body.error === 'string' ? body.error.replace(/[^\w-]/g, '') : `HTTP ${res.status}`}.`);
  if (typeof body.id_token !== 'string') throw failed('Error exchanging oidc code: the provider answered without an id_token.');
  return { idToken: body.id_token, accessToken: typeof body.access_token === 'string' ? body.access_token : '' };
}

/** Claims from the userinfo endpoint, merged under the ID token's; a failure there does not fail the login. */
async function userinfo(provider: ProviderMetadata, caPem: string, accessToken: string, subject: unknown): Promise<Record<string, unknown>> {
  if (!provider.userinfo_endpoint || !accessToken) return {};
  try {
    const res = await sendJson({ url: provider.userinfo_endpoint, headers: { authorization: `Bearer ${accessToken}` }, caPem });
    const info = res.body as Record<string, unknown> | null;
    // OpenID Connect Core §5.3.2: userinfo for another subject must not be used.
    if (res.status !== 200 || typeof info !== 'object' || info === null || info.sub !== subject) return {};
    return info;
  } catch {
    return {};
  }
}

export function oidcPaths(verifiers: VerifierCache, pending: PendingLogins): CompiledPath[] {
  return [
    definePath({
      pattern: 'oidc/auth_url',
      fields: {
        role: field.string({ description: 'The role to log in with; the default_role when empty.' }),
        redirect_uri: field.string({ description: 'Where the provider sends the browser back to; one of the role\'s allowed_redirect_uris.' }),
        client_nonce: field.string({ description: 'A value the callback must repeat, binding it to this client.' }),
      },
      operations: {
        update: {
          summary: 'Start an OIDC login: the provider URL to send the browser to.',
          handler: async (ctx, d) => {
            const config = await loadConfig(ctx.storage);
            if (!config) throw badRequest('could not load configuration');
            if (!config.oidc_discovery_url || !config.oidc_client_id) throw badRequest('OIDC login is not configured for this mount');
            const { name, role } = await roleFor(ctx, config, d.role);
            if (!d.redirect_uri) throw badRequest('missing redirect_uri');
            // An unauthenticated caller learns nothing more from a refused role or URI than an empty URL.
            const none = { data: { auth_url: '' } };
            if (role.role_type !== 'oidc') return none;
            if (!redirectAllowed(d.redirect_uri, role.allowed_redirect_uris)) {
              ctx.system.logger.warn('unauthorized redirect_uri', { role: name });
              return none;
            }
            const { provider } = await verifiers.verifier(config);
            if (!provider?.authorization_endpoint) return none;
            const nonce = randomBase62(32);
            const codeVerifier = randomBase62(64);
            const state = pending.add({ role: name, redirectUri: d.redirect_uri, nonce, codeVerifier, clientNonce: d.client_nonce });
            const url = new URL(provider.authorization_endpoint);
            const q = url.searchParams;
            q.set('client_id', config.oidc_client_id);
            q.set('response_type', 'code');
            q.set('redirect_uri', d.redirect_uri);
            q.set('scope', ['openid', ...role.oidc_scopes.filter((s) => s !== 'openid')].join(' '));
            q.set('state', state);
            q.set('nonce', nonce);
            q.set('code_challenge', s256(codeVerifier));
            q.set('code_challenge_method', 'S256');
            if (role.max_age > 0) q.set('max_age', String(role.max_age));
            return { data: { auth_url: url.href } };
          },
        },
      },
      help: { synopsis: 'Start an OIDC login.', description: 'Answers the provider\'s authorization URL (with state, nonce and a PKCE challenge) for the role and redirect_uri.' },
    }),
    definePath({
      pattern: 'oidc/callback',
      fields: {
        state: field.string({ description: 'The state from the authorization URL.' }),
        code: field.string({ description: 'The authorization code the provider issued.' }),
        client_nonce: field.string({ description: 'The client_nonce sent to auth_url, if one was.' }),
        error: field.string({ description: 'The OAuth error the provider answered, if any.' }),
        error_description: field.string({ description: 'Its description (logged, never answered).' }),
      },
      operations: {
        read: {
          summary: 'Finish an OIDC login: exchange the code for an ID token and log in.',
          handler: async (ctx, d) => {
            const config = await loadConfig(ctx.storage);
            if (!config) throw failed('Could not load configuration.');
            const login = pending.take(d.state);
            if (!login) throw failed('Expired or missing OAuth state.');
            const role = await loadRole(ctx.storage, login.role);
            if (!role) throw failed('Role could not be found.');
            if (d.error) {
              const known = ['invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable'];
              const code = d.error.trim().toLowerCase();
              throw failed(known.includes(code) ? code : 'An unknown error occurred during OIDC authentication.');
            }
            if (login.clientNonce && d.client_nonce !== login.clientNonce) throw badRequest('invalid client_nonce');
            checkLoginAddress(ctx, role);
            if (!d.code) throw failed('No code or id_token received.');

            const { keys, provider } = await verifiers.verifier(config);
            if (!provider) throw badRequest('OIDC login is not configured for this mount');
            const caPem = config.oidc_discovery_ca_pem;
            const { idToken, accessToken } = await exchange(provider, caPem, config.oidc_client_id, config.oidc_client_secret, login, d.code);
            const idClaims = await keys.verify(idToken, algorithmsOf(config)).catch((e: unknown) => {
              throw e instanceof CofferError ? failed(`Token verification failed. ${e.message}`) : e;
            });
            const now = ctx.system.clock.now() / 1000;
            try {
              // OpenID Connect Core §3.1.3.7: the provider's issuer, this client among the audiences.
              checkRegisteredClaims(idClaims, { issuer: provider.issuer, subject: '', audiences: [config.oidc_client_id], expirationLeeway: -1, notBeforeLeeway: -1, clockSkewLeeway: role.clock_skew_leeway, now });
              checkAudience(idClaims, role.bound_audiences);
            } catch (e) {
              throw e instanceof CofferError ? failed(`Token verification failed. ${e.message}`) : e;
            }
            if (typeof idClaims.exp !== 'number') throw failed('Token verification failed. The ID token has no expiry.');
            if (audiencesOf(idClaims).length > 1 && idClaims.azp !== undefined && idClaims.azp !== config.oidc_client_id) throw failed('Token verification failed. Invalid authorized party (azp) claim.');
            if (idClaims.nonce !== login.nonce) throw failed('invalid ID token nonce.');
            if (role.max_age > 0) {
              const authTime = idClaims.auth_time;
              if (typeof authTime !== 'number' || now - authTime > role.max_age + Math.max(role.clock_skew_leeway, 0)) throw failed('Token verification failed. The user authenticated longer ago than max_age.');
            }
            if (role.bound_subject && idClaims.sub !== role.bound_subject) throw failed('sub claim does not match bound subject');

            // The ID token's claims win over userinfo's: they are the ones the provider signed.
            const claims: Record<string, unknown> = { ...(await userinfo(provider, caPem, accessToken, claimAt(idClaims, 'sub'))), ...idClaims };
            delete claims['nonce'];
            return { grant: grantFor(login.role, role, claims) };
          },
        },
      },
      help: { synopsis: 'Finish an OIDC login.', description: 'The provider redirects the browser here (or to the CLI, which calls it) with state and code.' },
    }),
  ];
}
