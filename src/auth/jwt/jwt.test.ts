import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { get } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { newTestCore, type TestCore } from '../../core/testing.js';
import type { AuthResult } from '../../logical/index.js';
import { ManualClock } from '../../util/index.js';
import { FakeOidcProvider } from './testing.js';

/**
 * No identity provider can be reached from here: these tests run the method against
 * FakeOidcProvider, a local HTTPS OpenID provider speaking Discovery, JWKS, the authorization
 * code flow with PKCE, and userinfo, which signs the tests' JWTs and ID tokens itself.
 */
describe('jwt/oidc auth method (against a local OpenID provider stand-in)', () => {
  const clock = new ManualClock(Date.now());
  const idp = new FakeOidcProvider(clock);
  const cores: TestCore[] = [];

  before(() => idp.start());
  after(async () => {
    for (const t of cores) await t.core.seal();
    await idp.stop();
  });

  async function setup(mount = 'jwt', config: Record<string, unknown> = { jwks_url: idp.jwksUrl, jwks_ca_pem: idp.caPem }): Promise<TestCore> {
    const t = await newTestCore({ clock });
    cores.push(t);
    await t.request('update', `sys/auth/${mount}`, { type: mount === 'oidc' ? 'oidc' : 'jwt' });
    await t.request('update', `auth/${mount}/config`, config);
    await t.request('update', 'sys/policy/ci', { policy: 'path "secret/data/ci/*" {\n  capabilities = ["read"]\n}' });
    await t.request('update', 'secret/data/ci/deploy', { data: { key: 'from-coffer' } });
    return t;
  }

  const login = async (t: TestCore, data: Record<string, unknown>, mount = 'jwt'): Promise<AuthResult> => {
    const auth = (await t.core.handle({ operation: 'update', path: `auth/${mount}/login`, data, token: '' })).response?.auth;
    assert.ok(auth);
    return auth;
  };

  const ciRole = { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer', bound_claims: { project: 'web' }, claim_mappings: { project: 'project', ref: 'git_ref' }, token_policies: 'ci', token_ttl: '10m' };

  it('logs a CI job in with its JWT, maps claims to metadata, and reads its secret', async () => {
    const t = await setup();
    await t.request('update', 'auth/jwt/role/ci', ciRole);
    const jwt = await idp.sign({ sub: 'job-42', aud: 'coffer', project: 'web', ref: 'main' });
    const auth = await login(t, { role: 'ci', jwt });
    assert.deepEqual(auth.tokenPolicies, ['ci', 'default']);
    assert.equal(auth.leaseDuration, 600);
    assert.deepEqual(auth.metadata, { project: 'web', git_ref: 'main', role: 'ci' });
    assert.ok(auth.entityId, 'an entity for the alias "job-42"');
    const read = await t.request('read', 'secret/data/ci/deploy', {}, auth.clientToken);
    assert.deepEqual((read?.data as { data: unknown }).data, { key: 'from-coffer' });
    const self = await t.request('read', 'auth/token/lookup-self', {}, auth.clientToken);
    assert.equal(self?.data?.['display_name'], 'jwt-job-42');
    const renewed = await t.request('update', 'auth/token/renew-self', {}, auth.clientToken);
    assert.equal(renewed?.auth?.leaseDuration, 600);
    await t.request('delete', 'auth/jwt/role/ci');
    await assert.rejects(t.request('update', 'auth/token/renew-self', {}, auth.clientToken), { code: 'invalid_request', message: /does not exist/ });
  });

  it('never logs in an expired JWT, one for another audience, another issuer, or one whose claims do not match', async () => {
    const t = await setup('jwt', { jwks_url: idp.jwksUrl, jwks_ca_pem: idp.caPem, bound_issuer: idp.issuer });
    await t.request('update', 'auth/jwt/role/ci', ciRole);
    const now = Math.floor(clock.now() / 1000);
    const claims = { sub: 'job-42', aud: 'coffer', project: 'web' };
    const refused = async (jwt: string, message: RegExp) => assert.rejects(login(t, { role: 'ci', jwt }), { code: 'invalid_request', message });
    await refused(await idp.sign({ ...claims, exp: now - 61 }), /token is expired/);
    await refused(await idp.sign({ ...claims, nbf: now + 120, iat: undefined }), /not yet valid/);
    await refused(await idp.sign({ ...claims, aud: 'someone-else' }), /invalid audience/);
    await refused(await idp.sign({ ...claims, iss: 'https://elsewhere.example' }), /invalid issuer/);
    await refused(await idp.sign({ ...claims, project: 'api' }), /claim "project" does not match/);
    await refused(await idp.sign({ sub: 'job-42', aud: 'coffer' }), /claim "project" is missing/);
    await refused(await idp.sign({ ...claims, iat: undefined, exp: undefined }), /no issued at/);
    // Within the 60 s clock-skew leeway an expiry just passed still logs in.
    await login(t, { role: 'ci', jwt: await idp.sign({ ...claims, exp: now - 30 }) });
    // The same token goes stale as the server's clock moves past its expiry.
    const jwt = await idp.sign(claims);
    await login(t, { role: 'ci', jwt });
    clock.advance(3600 + 61);
    await refused(jwt, /token is expired/);
  });

  it('refuses forged signatures, "none", HMAC with the public key, and algorithms the mount does not allow', async () => {
    const t = await setup();
    await t.request('update', 'auth/jwt/role/ci', ciRole);
    const claims = { sub: 'job-42', aud: 'coffer', project: 'web' };
    const refused = async (jwt: string, message: RegExp) => assert.rejects(login(t, { role: 'ci', jwt }), { code: 'invalid_request', message });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await refused(await idp.sign(claims, { key: other }), /signature/);
    const body = Buffer.from(JSON.stringify({ ...claims, iat: Math.floor(clock.now() / 1000) })).toString('base64url');
    await refused(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`, /unexpected algorithm/);
    const hmac = await new SignJWT({ ...claims, iat: Math.floor(clock.now() / 1000) }).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(Buffer.from(idp.caPem));
    await refused(hmac, /unexpected algorithm/);
    await refused('not-a-jwt', /not a signed JWT/);
    await t.request('update', 'auth/jwt/config', { jwks_url: idp.jwksUrl, jwks_ca_pem: idp.caPem, jwt_supported_algs: 'ES256' });
    await refused(await idp.sign(claims), /unexpected algorithm/);
  });

  it('fetches the JWKS once, and again only when a token names a key it does not hold', async () => {
    const t = await setup();
    await t.request('update', 'auth/jwt/role/ci', ciRole);
    const claims = { sub: 'job-42', aud: 'coffer', project: 'web' };
    const fetched = idp.jwksFetches;
    for (let i = 0; i < 5; i++) await login(t, { role: 'ci', jwt: await idp.sign(claims) });
    assert.equal(idp.jwksFetches, fetched, 'the keys fetched when the config was written serve every login');
    idp.rotate();
    clock.advance(11);
    await login(t, { role: 'ci', jwt: await idp.sign(claims) });
    assert.equal(idp.jwksFetches, fetched + 1, 'a new kid fetches the JWKS once');
    await assert.rejects(login(t, { role: 'ci', jwt: await idp.sign(claims, { kid: 'unknown' }) }), { code: 'invalid_request' });
    assert.equal(idp.jwksFetches, fetched + 1, 'an unknown kid right after a fetch does not fetch again');
  });

  it('verifies with jwt_validation_pubkeys and maps the groups claim onto external groups', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = await setup('jwt', { jwt_validation_pubkeys: [publicKey.export({ type: 'spki', format: 'pem' }).toString()], bound_issuer: 'https://ci.example' });
    await t.request('update', 'auth/jwt/role/dev', { role_type: 'jwt', user_claim: 'email', bound_subject: 'u-1', groups_claim: '/profile/teams', bound_claims_type: 'glob', bound_claims: { email: '*@example.com' } });
    await t.request('update', 'sys/policy/eng', { policy: 'path "secret/data/ci/*" {\n  capabilities = ["read"]\n}' });
    const accessor = String(((await t.request('read', 'sys/auth'))?.data?.['jwt/'] as Record<string, unknown>)['accessor']);
    const group = (await t.request('update', 'identity/group', { name: 'eng', type: 'external', policies: 'eng' }))!.data!['id'];
    await t.request('update', 'identity/group-alias', { name: 'engineering', mount_accessor: accessor, canonical_id: group });
    const sign = (claims: Record<string, unknown>) => new SignJWT({ iss: 'https://ci.example', iat: Math.floor(clock.now() / 1000), ...claims }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const auth = await login(t, { role: 'dev', jwt: await sign({ sub: 'u-1', email: 'alice@example.com', profile: { teams: ['engineering', 'oncall'] } }) });
    assert.deepEqual(auth.identityPolicies, ['eng']);
    assert.ok(await t.request('read', 'secret/data/ci/deploy', {}, auth.clientToken));
    await assert.rejects(login(t, { role: 'dev', jwt: await sign({ sub: 'u-1', email: 'mallory@evil.example', profile: { teams: [] } }) }), { message: /claim "email" does not match/ });
    await assert.rejects(login(t, { role: 'dev', jwt: await sign({ sub: 'u-2', email: 'bob@example.com', profile: { teams: [] } }) }), { message: /invalid subject/ });
    await assert.rejects(login(t, { role: 'dev', jwt: await sign({ sub: 'u-1', email: 'alice@example.com', aud: 'x', profile: { teams: [] } }) }), { message: 'audience claim found in JWT but no audiences bound to the role' });
  });

  it('validates config and roles at the edge', async () => {
    const t = await setup();
    const bad = (path: string, data: Record<string, unknown>, message: RegExp | string) => assert.rejects(t.request('update', path, data), { code: 'invalid_request', message });
    await bad('auth/jwt/config', {}, "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
    await bad('auth/jwt/config', { jwks_url: idp.jwksUrl, jwt_validation_pubkeys: 'x' }, /exactly one/);
    await bad('auth/jwt/config', { jwt_validation_pubkeys: 'junk' }, /error parsing public key/);
    await bad('auth/jwt/config', { jwks_url: 'https://127.0.0.1:1/jwks' }, 'error checking jwks URL');
    await bad('auth/jwt/config', { jwks_url: idp.jwksUrl }, 'error checking jwks URL'); // its CA is not trusted
    await bad('auth/jwt/config', { oidc_discovery_url: idp.issuer, oidc_client_id: 'x' }, /both 'oidc_client_id' and 'oidc_client_secret'/);
    await bad('auth/jwt/config', { jwks_url: idp.jwksUrl, jwks_ca_pem: idp.caPem, jwt_supported_algs: 'HS256' }, /invalid jwt_supported_algs/);
    await bad('auth/jwt/role/r', { role_type: 'jwt', bound_audiences: 'x' }, 'a user claim must be defined on the role');
    await bad('auth/jwt/role/r', { role_type: 'jwt', user_claim: 'sub' }, 'must have at least one bound constraint when creating/updating a role');
    await bad('auth/jwt/role/r', { user_claim: 'sub' }, /'allowed_redirect_uris' must be set/);
    await bad('auth/jwt/role/r', { role_type: 'jwt', user_claim: 'sub', bound_claims_type: 'glob', bound_claims: { n: 5 } }, /must be strings/);
    await bad('auth/jwt/role/r', { role_type: 'jwt', user_claim: 'sub', bound_subject: 's', claim_mappings: { a: 'role' } }, /reserved/);
    await bad('auth/jwt/role/r', { role_type: 'jwt', user_claim: 'sub', bound_subject: 's', clock_skew_leeway: 'soon' }, /clock_skew_leeway/);
    await t.request('update', 'auth/jwt/role/r', { role_type: 'jwt', user_claim: 'sub', bound_subject: 's', clock_skew_leeway: -1 });
    // The CLI sends a map as a JSON string (bound_claims='{"a": "b"}'), as Vault's TypeMap takes it.
    await t.request('update', 'auth/jwt/role/cli', { role_type: 'jwt', user_claim: 'sub', bound_claims: '{"env": ["prod", "stage"]}' });
    assert.deepEqual((await t.request('read', 'auth/jwt/role/cli'))?.data?.['bound_claims'], { env: ['prod', 'stage'] });
    await t.request('delete', 'auth/jwt/role/cli');
    const role = await t.request('read', 'auth/jwt/role/r');
    assert.equal(role?.data?.['clock_skew_leeway'], -1);
    assert.equal(role?.data?.['expiration_leeway'], 150);
    assert.deepEqual((await t.request('list', 'auth/jwt/role'))?.data?.['keys'], ['r']);
    await assert.rejects(login(t, { role: 'r' }), { message: 'missing token' });
    await assert.rejects(login(t, { role: 'nope', jwt: 'x' }), { message: 'role "nope" could not be found' });
    await assert.rejects(login(t, { jwt: 'x' }), { message: 'missing role' });
  });

  /** What a browser does with the auth URL: the provider signs the user in and redirects back with code and state. */
  const followAuthUrl = (authUrl: string): Promise<URL> =>
    new Promise((resolve, reject) => {
      get(authUrl, { ca: idp.caPem }, (res) => {
        res.resume();
        if (res.statusCode !== 302 || !res.headers.location) reject(new Error(`the provider answered ${res.statusCode}`));
        else resolve(new URL(res.headers.location));
      }).on('error', reject);
    });

  async function oidcSetup(): Promise<TestCore> {
    const t = await setup('oidc', { oidc_discovery_url: idp.issuer, oidc_discovery_ca_pem: idp.caPem, oidc_client_id: idp.clientId, oidc_client_secret: idp.clientSecret, default_role: 'people' });
    await t.request('update', 'auth/oidc/role/people', { user_claim: 'email', groups_claim: 'groups', allowed_redirect_uris: 'http://localhost:8250/oidc/callback', oidc_scopes: 'email,profile', claim_mappings: { name: 'name' }, token_policies: 'ci' });
    return t;
  }

  it('logs a person in through the authorization code flow with PKCE, once per state', async () => {
    const t = await oidcSetup();
    idp.userinfoClaims = { name: 'Alice Liddell' };
    const started = await t.core.handle({ operation: 'update', path: 'auth/oidc/oidc/auth_url', data: { redirect_uri: 'http://localhost:8250/oidc/callback', client_nonce: 'cn-1' }, token: '' });
    const authUrl = new URL(String(started.response?.data?.['auth_url']));
    assert.equal(authUrl.origin + authUrl.pathname, `${idp.issuer}/authorize`);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('scope'), 'openid email profile');
    const back = await followAuthUrl(authUrl.href);
    assert.equal(back.origin + back.pathname, 'http://localhost:8250/oidc/callback');
    const query = { state: back.searchParams.get('state'), code: back.searchParams.get('code'), client_nonce: 'cn-1' };
    const done = await t.core.handle({ operation: 'read', path: 'auth/oidc/oidc/callback', data: query, token: '' });
    const auth = done.response?.auth;
    assert.ok(auth, JSON.stringify(done.response));
    assert.deepEqual(auth.tokenPolicies, ['ci', 'default']);
    assert.deepEqual(auth.metadata, { name: 'Alice Liddell', role: 'people' }, 'userinfo claims are mapped too');
    const exchange = idp.tokenRequests.at(-1)!;
    assert.equal(exchange.get('redirect_uri'), 'http://localhost:8250/oidc/callback');
    assert.ok((exchange.get('code_verifier') ?? '').length >= 43, 'the PKCE verifier is sent with the code');
    await assert.rejects(t.core.handle({ operation: 'read', path: 'auth/oidc/oidc/callback', data: query, token: '' }), { message: 'Vault login failed. Expired or missing OAuth state.' });
  });

  it('answers an empty auth_url for a redirect_uri the role does not allow, and refuses a callback without its client_nonce', async () => {
    const t = await oidcSetup();
    const refused = await t.core.handle({ operation: 'update', path: 'auth/oidc/oidc/auth_url', data: { role: 'people', redirect_uri: 'https://evil.example/cb' }, token: '' });
    assert.equal(refused.response?.data?.['auth_url'], '');
    // Loopback redirect URIs match on any port (RFC 8252 §7.3).
    const started = await t.core.handle({ operation: 'update', path: 'auth/oidc/oidc/auth_url', data: { role: 'people', redirect_uri: 'http://localhost:9999/oidc/callback', client_nonce: 'mine' }, token: '' });
    const back = await followAuthUrl(String(started.response?.data?.['auth_url']));
    await assert.rejects(t.core.handle({ operation: 'read', path: 'auth/oidc/oidc/callback', data: { state: back.searchParams.get('state'), code: back.searchParams.get('code'), client_nonce: 'theirs' }, token: '' }), { message: 'invalid client_nonce' });
    await assert.rejects(t.core.handle({ operation: 'update', path: 'auth/oidc/login', data: { role: 'people', jwt: 'x' }, token: '' }), { message: 'role with oidc role_type is not allowed' });
    const config = await t.request('read', 'auth/oidc/config');
    assert.equal(config?.data?.['oidc_client_id'], idp.clientId);
    assert.ok(!JSON.stringify(config?.data).includes(idp.clientSecret), 'the client secret is never returned');
  });
});
