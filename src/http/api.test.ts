import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange, startTestServer, type TestServer } from './testing.js';

describe('Vault wire format', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer({ unsealed: true })));
  after(() => s.close());

  it('wraps answers in Vault\'s envelope with the mount type', async () => {
    const res = await s.fetch('/v1/secret/data/x', { body: { data: { a: 1 } } });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body!).sort(), ['auth', 'data', 'lease_duration', 'lease_id', 'mount_type', 'renewable', 'request_id', 'warnings', 'wrap_info']);
    assert.equal(res.body!['mount_type'], 'kv');
    assert.match(String(res.body!['request_id']), /^[0-9a-f-]{36}$/);
  });

  it('answers a missing secret with 404 and empty errors, and a bodiless write with 204', async () => {
    assert.deepEqual(await s.fetch('/v1/secret/data/nope'), { status: 404, body: { errors: [] } });
    assert.equal((await s.fetch('/v1/sys/policy/p', { body: { policy: 'path "a" { capabilities = ["read"] }' } })).status, 204);
  });

  it('answers malformed JSON and non-object bodies with 400', async () => {
    for (const body of ['{"data": ', '[1,2]', '"str"', 'null']) {
      const res = await s.fetch('/v1/secret/data/x', { method: 'POST', body });
      assert.equal(res.status, 400, body);
      assert.match(String((res.body!['errors'] as string[])[0]), /failed to parse JSON input/);
    }
  });

  it('refuses integers JSON cannot hold exactly instead of storing them rounded', async () => {
    const res = await s.fetch('/v1/secret/data/big', { method: 'POST', body: '{"data": {"id": 12345678901234567890}}' });
    assert.equal(res.status, 400);
    assert.match(String((res.body!['errors'] as string[])[0]), /too large to store exactly/);
    const ok = await s.fetch('/v1/secret/data/big', { method: 'POST', body: '{"data": {"id": "12345678901234567890", "n": 9007199254740991, "f": -1.5e300}}' });
    assert.equal(ok.status, 200);
    assert.deepEqual((await s.fetch('/v1/secret/data/big')).body!['data'], { data: { id: '12345678901234567890', n: 9007199254740991, f: -1.5e300 }, metadata: ((await s.fetch('/v1/secret/data/big')).body!['data'] as { metadata: unknown }).metadata });
  });

  it('answers an unknown method with 405 and a path outside /v1/ with 404, from the one error table', async () => {
    const [foo] = await rawExchange(s.port, 'FOO /v1/secret/data/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(foo?.status, 405);
    assert.deepEqual(JSON.parse(foo!.body), { errors: ['unsupported operation'] });
    assert.deepEqual(await s.fetch('/v2/secret/data/x'), { status: 404, body: { errors: [] } });
    assert.deepEqual(await s.fetch('/'), { status: 404, body: { errors: [] } });
  });

  it('requires the merge-patch content type for PATCH (415 otherwise)', async () => {
    assert.equal((await s.fetch('/v1/secret/data/x', { method: 'PATCH', body: { data: { b: 2 } } })).status, 415);
    const ok = await s.fetch('/v1/secret/data/x', { method: 'PATCH', body: { data: { b: 2 } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(ok.status, 200);
  });

  it('treats GET ?list=true as LIST', async () => {
    const res = await s.fetch('/v1/secret/metadata/?list=true');
    assert.ok((res.body!['data'] as { keys: string[] }).keys.includes('x'));
  });

  it('lists a folder named without its trailing slash, as Vault appends it', async () => {
    await s.fetch('/v1/secret/data/app/one', { body: { data: { a: 1 } } });
    await s.fetch('/v1/sys/mounts/kv1', { body: { type: 'kv' } });
    await s.fetch('/v1/kv1/app/one', { body: { a: 1 } });
    const keys = async (method: string, url: string) => ((await s.fetch(url, { method })).body!['data'] as { keys: string[] }).keys;
    assert.deepEqual(await keys('LIST', '/v1/secret/metadata/app'), ['one']);
    assert.deepEqual(await keys('GET', '/v1/secret/metadata/app?list=true'), ['one']);
    assert.ok((await keys('LIST', '/v1/secret/metadata')).includes('app/'));
    assert.ok((await keys('GET', '/v1/secret/metadata?list=true')).includes('app/'));
    assert.deepEqual(await keys('LIST', '/v1/kv1/app'), ['one']);
    assert.deepEqual(await keys('LIST', '/v1/kv1'), ['app/']);
    assert.ok((await keys('LIST', '/v1/sys/policies/acl')).includes('default'));
  });

  it('copies sys/ data to the top level for older clients', async () => {
    const res = await s.fetch('/v1/sys/mounts');
    assert.ok(res.body!['secret/']);
    assert.ok((res.body!['data'] as Record<string, unknown>)['secret/']);
  });

  it('wraps a response asked with X-Vault-Wrap-TTL, and unwraps it to the envelope the read would have had', async () => {
    await s.fetch('/v1/secret/data/wrapped', { method: 'POST', body: { data: { k: 'v' } } });
    const res = await s.fetch('/v1/secret/data/wrapped', { headers: { 'X-Vault-Wrap-TTL': '60s' } });
    assert.equal(res.status, 200);
    assert.equal(res.body!['data'], null);
    const info = res.body!['wrap_info'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(info).sort(), ['accessor', 'creation_path', 'creation_time', 'token', 'ttl', 'wrapped_accessor']);
    assert.equal(info['ttl'], 60);
    assert.equal(info['creation_path'], 'secret/data/wrapped');
    const out = await s.fetch('/v1/sys/wrapping/unwrap', { method: 'POST', token: String(info['token']), body: {} });
    assert.equal(out.status, 200);
    assert.deepEqual((out.body!['data'] as { data: unknown }).data, { k: 'v' });
    assert.equal(out.body!['mount_type'], 'kv');
    assert.equal(out.body!['k'], undefined, 'no sys/ copy to the top level');
    const again = await s.fetch('/v1/sys/wrapping/unwrap', { method: 'POST', token: String(info['token']), body: {} });
    assert.deepEqual([again.status, again.body], [400, { errors: ['wrapping token is not valid or does not exist'] }]);
    assert.equal((await s.fetch('/v1/secret/data/wrapped', { headers: { 'X-Vault-Wrap-TTL': 'soon' } })).status, 400);
    assert.equal((await s.fetch('/v1/secret/data/wrapped', { headers: { 'X-Vault-Wrap-TTL': '300' } })).body!['data'], null, 'a number of seconds');
  });

  it('answers sys/health with Vault\'s status codes and query overrides', async () => {
    const health = await s.fetch('/v1/sys/health', { token: '' });
    assert.equal(health.status, 200);
    // Clients gate features on the version: the Vault API level first, coffer's release after "+".
    assert.match(String(health.body!['version']), /^1\.19\.0\+coffer\.\d+\.\d+\.\d+$/);
    assert.equal((await s.fetch('/v1/sys/seal-status', { token: '' })).body!['version'], health.body!['version']);
    assert.equal((await s.fetch('/v1/sys/health?activecode=299', { token: '' })).status, 299);
    assert.equal((await s.fetch('/v1/sys/health?activecode=abc', { token: '' })).status, 400);
    const [head] = await rawExchange(s.port, 'HEAD /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(head?.status, 200);
    const leader = await s.fetch('/v1/sys/leader', { token: '' });
    assert.equal(leader.body!['ha_enabled'], false);
    await s.core.seal();
    assert.equal((await s.fetch('/v1/sys/health', { token: '' })).status, 503);
    assert.equal((await s.fetch('/v1/sys/health?sealedcode=200', { token: '' })).status, 200);
    assert.deepEqual((await s.fetch('/v1/secret/data/x')).body, { errors: ['Vault is sealed'] });
    assert.equal((await s.fetch('/v1/secret/data/x')).status, 503);
  });
});

describe('sys/health on an uninitialised server', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer()));
  after(() => s.close());

  it('answers 501, or the uninitcode given', async () => {
    assert.equal((await s.fetch('/v1/sys/health')).status, 501);
    assert.equal((await s.fetch('/v1/sys/health?uninitcode=200')).status, 200);
    assert.deepEqual((await s.fetch('/v1/sys/init')).body, { initialized: false });
  });
});

describe('quotas over HTTP', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer({ unsealed: true })));
  after(() => s.close());

  it('answers a rate-limited request 429 with Vault\'s error and a Retry-After header, before it is authenticated', async () => {
    assert.equal((await s.fetch('/v1/sys/quotas/rate-limit/kv', { body: { path: 'secret/', rate: 1, interval: '1h' } })).status, 204);
    assert.equal((await s.fetch('/v1/secret/data/x', { token: 'no-such-token' })).status, 403);
    const res = await fetch(`${s.url}/v1/secret/data/x`, { headers: { 'X-Vault-Token': 'no-such-token' } });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '3600');
    assert.deepEqual(await res.json(), { errors: ['request path "secret/data/x": rate limit quota exceeded'] });
    assert.equal((await s.fetch('/v1/sys/health')).status, 200, 'sys/health is exempt');
  });
});
