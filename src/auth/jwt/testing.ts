import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { SignJWT, type JWK } from 'jose';
import { startHttpsFixture } from '../../http/tls-fixture.js';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

function newKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' } };
}

interface IssuedCode {
  readonly redirectUri: string;
  readonly nonce: string;
  readonly challenge: string;
  readonly claims: Record<string, unknown>;
}

/**
 * A stand-in OpenID provider for tests: no real identity provider can be reached from here. It
 * serves HTTPS with its own certificate and speaks the real protocol: Discovery 1.0 metadata, a
 * JWKS, the authorization endpoint (which signs in `user` at once, as a provider would after the
 * user typed a password, and redirects with code and state), the token endpoint (client secret
 * in HTTP Basic, single-use codes, redirect_uri and PKCE S256 checked as RFC 6749 and RFC 7636
 * require) and userinfo. ID tokens and the JWTs tests log in with are RS256, signed with its
 * current key; `rotate()` replaces the key, and the JWKS then lists only the new one.
 */
export class FakeOidcProvider {
  readonly clientId = 'coffer-client';
  readonly clientSecret = randomBytes(16).toString('hex');
  /** Claims of the user the authorization endpoint signs in. */
  user: Record<string, unknown> = { sub: 'alice-sub', email: 'alice@example.com', groups: ['engineering'] };
  /** Extra claims userinfo answers for the user. */
  userinfoClaims: Record<string, unknown> = {};
  /** How many times the JWKS was fetched. */
  jwksFetches = 0;
  /** The token endpoint's requests, for tests that look at them. */
  readonly tokenRequests: URLSearchParams[] = [];
  issuer = '';
  caPem = '';
  #key = newKey('key-1');
  #keys = 1;
  #server: Server | null = null;
  readonly #codes = new Map<string, IssuedCode>();
  readonly #accessTokens = new Map<string, Record<string, unknown>>();

  /** `clock` dates the tokens it signs (the tests' manual clock, so the server and it agree). */
  constructor(private readonly clock: { now(): number } = { now: () => Date.now() }) {}

  async start(): Promise<void> {
    const { server, url, caPem } = await startHttpsFixture((req, res, body) => void this.#answer(req, res, body));
    this.#server = server;
    this.issuer = url;
    this.caPem = caPem;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /** Replace the signing key; the JWKS lists only the new one. */
  rotate(): void {
    this.#keys += 1;
    this.#key = newKey(`key-${this.#keys}`);
  }

  get jwksUrl(): string {
    return `${this.issuer}/jwks`;
  }

  /** A JWT for tests to log in with: iss is this provider, exp an hour out unless claims say otherwise. */
  async sign(claims: Record<string, unknown>, opts: { key?: KeyObject; kid?: string; alg?: string } = {}): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ iss: this.issuer, iat: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? this.#key.kid })
      .sign(opts.key ?? this.#key.privateKey);
  }

  async #answer(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        userinfo_endpoint: `${this.issuer}/userinfo`,
        jwks_uri: this.jwksUrl,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/jwks') {
      this.jwksFetches += 1;
      return json(200, { keys: [this.#key.jwk] });
    }
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== this.clientId || q.get('response_type') !== 'code' || !(q.get('scope') ?? '').split(' ').includes('openid')) return json(400, { error: 'invalid_request' });
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return json(400, { error: 'invalid_request', error_description: 'PKCE S256 is required' });
      const code = randomBytes(16).toString('hex');
      this.#codes.set(code, { redirectUri: q.get('redirect_uri') ?? '', nonce: q.get('nonce') ?? '', challenge: q.get('code_challenge') ?? '', claims: { ...this.user } });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      const form = new URLSearchParams(body);
      this.tokenRequests.push(form);
      const expected = Buffer.from(`Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`);
      const got = Buffer.from(String(req.headers.authorization ?? ''));
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) return json(401, { error: 'invalid_client' });
      const issued = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      if (form.get('grant_type') !== 'authorization_code' || !issued || issued.redirectUri !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      const accessToken = randomBytes(16).toString('hex');
      this.#accessTokens.set(accessToken, issued.claims);
      const now = Math.floor(this.clock.now() / 1000);
      const idToken = await this.sign({ aud: this.clientId, nonce: issued.nonce, auth_time: now, ...issued.claims });
      return json(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, id_token: idToken });
    }
    if (req.method === 'GET' && url.pathname === '/userinfo') {
      const claims = this.#accessTokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      if (!claims) return json(401, { error: 'invalid_token' });
      return json(200, { sub: claims.sub, ...this.userinfoClaims });
    }
    json(404, { error: 'not_found' });
  }
}
