import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../../core/testing.js';
import type { AuthResult } from '../../logical/index.js';
import { FakeKubernetes } from './testing.js';

/**
 * Kubernetes cannot run here: these tests run the method against FakeKubernetes, a local HTTPS
 * server answering the real TokenReview request and response shapes (authentication.k8s.io/v1),
 * with service-account JWTs the tests sign themselves.
 */
describe('kubernetes auth method (against a local TokenReview stand-in)', () => {
  const k8s = new FakeKubernetes();
  const cores: TestCore[] = [];
  let reviewerJwt = '';

  before(async () => {
    await k8s.start();
    k8s.accounts.set('production/my-app', 'uid-my-app');
    k8s.accounts.set('staging/my-app', 'uid-staging');
    k8s.accounts.set('production/other', 'uid-other');
    k8s.accounts.set('kube-system/vault-reviewer', 'uid-reviewer');
    k8s.accounts.set('team-a/worker', 'uid-worker');
    k8s.namespaceLabels.set('team-a', { team: 'a' });
    reviewerJwt = await k8s.token({ namespace: 'kube-system', name: 'vault-reviewer' });
  });
  after(async () => {
    for (const t of cores) await t.core.seal();
    await k8s.stop();
  });

  /** The article's setup, with coffer for vault: enable, config, the my-app-role role, app-policy. */
  async function setup(config: Record<string, unknown> = {}): Promise<TestCore> {
    const t = await newTestCore();
    cores.push(t);
    await t.request('update', 'sys/auth/kubernetes', { type: 'kubernetes' });
    await t.request('update', 'auth/kubernetes/config', { kubernetes_host: k8s.host, kubernetes_ca_cert: k8s.caPem, token_reviewer_jwt: reviewerJwt, disable_local_ca_jwt: true, ...config });
    await t.request('update', 'auth/kubernetes/role/my-app-role', { bound_service_account_names: 'my-app', bound_service_account_namespaces: 'production', policies: 'app-policy', ttl: '1h' });
    await t.request('update', 'sys/policy/app-policy', { policy: 'path "secret/data/production/my-app/*" {\n  capabilities = ["read"]\n}' });
    await t.request('update', 'secret/data/production/my-app/db', { data: { password: 'from-coffer' } });
    return t;
  }

  const login = async (t: TestCore, role: string, jwt: string): Promise<AuthResult> => {
    const auth = (await t.core.handle({ operation: 'update', path: 'auth/kubernetes/login', data: { role, jwt }, token: '' })).response?.auth;
    assert.ok(auth);
    return auth;
  };

  it('logs a pod in with its service-account JWT, reviewed by the API server, and reads its secret', async () => {
    const t = await setup();
    const before = k8s.reviewers.length;
    const auth = await login(t, 'my-app-role', await k8s.token({ namespace: 'production', name: 'my-app' }));
    assert.equal(k8s.reviewers.length, before + 1, 'one TokenReview');
    assert.equal(k8s.reviewers.at(-1), reviewerJwt, 'made with the configured reviewer JWT');
    assert.deepEqual(auth.tokenPolicies, ['app-policy', 'default']);
    assert.equal(auth.leaseDuration, 3600);
    assert.deepEqual(auth.metadata, { service_account_name: 'my-app', service_account_namespace: 'production', service_account_uid: 'uid-my-app', service_account_secret_name: '', role: 'my-app-role' });
    const read = await t.request('read', 'secret/data/production/my-app/db', {}, auth.clientToken);
    assert.deepEqual((read?.data as { data: unknown }).data, { password: 'from-coffer' });
    const config = await t.request('read', 'auth/kubernetes/config');
    assert.equal(config?.data?.['token_reviewer_jwt_set'], true);
    assert.ok(!JSON.stringify(config?.data).includes(reviewerJwt), 'the reviewer JWT is never returned');
    const renewed = await t.request('update', 'auth/token/renew-self', {}, auth.clientToken);
    assert.equal(renewed?.auth?.leaseDuration, 3600);
  });

  it('refuses service accounts and namespaces outside the role, and honours globs and a namespace selector', async () => {
    const t = await setup();
    await assert.rejects(login(t, 'my-app-role', await k8s.token({ namespace: 'staging', name: 'my-app' })), { code: 'permission_denied', message: 'namespace not authorized' });
    await assert.rejects(login(t, 'my-app-role', await k8s.token({ namespace: 'production', name: 'other' })), { code: 'permission_denied', message: 'service account name not authorized' });
    await t.request('update', 'auth/kubernetes/role/globbed', { bound_service_account_names: 'my-*', bound_service_account_namespaces: 'prod*,staging' });
    await login(t, 'globbed', await k8s.token({ namespace: 'staging', name: 'my-app' }));
    await t.request('update', 'auth/kubernetes/role/by-label', { bound_service_account_names: 'worker', bound_service_account_namespace_selector: '{"matchLabels": {"team": "a"}}' });
    await login(t, 'by-label', await k8s.token({ namespace: 'team-a', name: 'worker' }));
    const selector = (s: unknown) => t.request('update', 'auth/kubernetes/role/by-expr', { bound_service_account_names: 'worker', bound_service_account_namespace_selector: JSON.stringify(s) });
    await selector({ matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }, { key: 'frozen', operator: 'DoesNotExist' }] });
    await login(t, 'by-expr', await k8s.token({ namespace: 'team-a', name: 'worker' }));
    await selector({ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] });
    await assert.rejects(login(t, 'by-expr', await k8s.token({ namespace: 'team-a', name: 'worker' })), { message: 'namespace not authorized' });
    await assert.rejects(selector({ matchExpressions: [{ key: 'team', operator: 'In' }] }), { message: /In and NotIn need values/ });
    await assert.rejects(selector({ matchExpressions: [{ key: 'team', operator: 'Near', values: ['a'] }] }), { message: /operator must be/ });
    await assert.rejects(selector({}), { message: /must hold matchLabels or matchExpressions/ });
    await assert.rejects(login(t, 'nope', await k8s.token({ namespace: 'production', name: 'my-app' })), { code: 'invalid_request', message: 'invalid role name' });
  });

  it('never logs in a deleted account, an expired JWT, a JWT for another audience, or one signed by another key', async () => {
    const t = await setup();
    k8s.accounts.set('production/gone', 'uid-gone');
    await t.request('update', 'auth/kubernetes/role/gone', { bound_service_account_names: 'gone', bound_service_account_namespaces: 'production' });
    const jwt = await k8s.token({ namespace: 'production', name: 'gone' });
    k8s.accounts.delete('production/gone');
    await assert.rejects(login(t, 'gone', jwt), { code: 'permission_denied' });
    await assert.rejects(login(t, 'my-app-role', await k8s.token({ namespace: 'production', name: 'my-app', expiresIn: -60 })), { code: 'permission_denied' });
    await t.request('update', 'auth/kubernetes/role/aud', { bound_service_account_names: 'my-app', bound_service_account_namespaces: 'production', audience: 'coffer' });
    await assert.rejects(login(t, 'aud', await k8s.token({ namespace: 'production', name: 'my-app' })), { code: 'permission_denied', message: 'invalid audience (aud) claim' });
    await login(t, 'aud', await k8s.token({ namespace: 'production', name: 'my-app', audience: ['coffer'] }));
    const forged = await k8s.token({ namespace: 'production', name: 'my-app', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey });
    await assert.rejects(login(t, 'my-app-role', forged), { code: 'permission_denied' }, 'the API server refuses a JWT it did not sign');
  });

  it('checks JWTs locally against pem_keys, refusing a foreign signature before any review', async () => {
    const t = await setup({ pem_keys: [k8s.publicPem] });
    await login(t, 'my-app-role', await k8s.token({ namespace: 'production', name: 'my-app' }));
    const before = k8s.reviewers.length;
    const forged = await k8s.token({ namespace: 'production', name: 'my-app', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey });
    await assert.rejects(login(t, 'my-app-role', forged), { code: 'permission_denied', message: /pem_keys/ });
    assert.equal(k8s.reviewers.length, before, 'no review for a JWT refused locally');
  });

  it('lets the client\'s own JWT authorise its review when no reviewer JWT is configured', async () => {
    const t = await setup({ token_reviewer_jwt: '' });
    const jwt = await k8s.token({ namespace: 'production', name: 'my-app' });
    await login(t, 'my-app-role', jwt);
    assert.equal(k8s.reviewers.at(-1), jwt);
  });

  it('validates config and roles at the edge', async () => {
    const t = await setup();
    await assert.rejects(t.request('update', 'auth/kubernetes/config', { kubernetes_host: 'not a url' }), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'auth/kubernetes/config', { kubernetes_ca_cert: 'junk' }), { message: 'field "kubernetes_ca_cert" is not a PEM-encoded certificate' });
    await assert.rejects(t.request('update', 'auth/kubernetes/role/wide', { bound_service_account_names: '*', bound_service_account_namespaces: '*' }), { code: 'invalid_request' });
    await assert.rejects(t.request('update', 'auth/kubernetes/role/none', { bound_service_account_namespaces: 'x' }), { code: 'invalid_request' });
    assert.deepEqual((await t.request('list', 'auth/kubernetes/role'))?.data?.['keys'], ['my-app-role']);
  });
});
