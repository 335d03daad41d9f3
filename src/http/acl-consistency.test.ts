import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './testing.js';

/**
 * What sys/capabilities reports and what the pipeline enforces must be the same answer, for
 * every form in which a client can spell a request: LIST or GET ?list=true, with or without the
 * trailing slash, percent-encoded. A list is authorised on its folder path with the slash, so the
 * capabilities of "F/" decide LIST F.
 */
const POLICIES: Record<string, string> = {
  'deny-below-list': 'path "secret/metadata/*" { capabilities = ["list"] }\npath "secret/metadata/private/*" { capabilities = ["deny"] }',
  'deny-folder-exact': 'path "secret/metadata/*" { capabilities = ["list", "read"] }\npath "secret/metadata/private/" { capabilities = ["deny"] }',
  'exact-bare-folder': 'path "secret/metadata/app" { capabilities = ["list"] }\npath "secret/metadata/app/*" { capabilities = ["read"] }',
  'partial-glob': 'path "secret/metadata/pub*" { capabilities = ["list", "read"] }',
  'segment-wildcard': 'path "secret/metadata/+/" { capabilities = ["list"] }\npath "secret/metadata/+/deeper/*" { capabilities = ["deny"] }',
  'root-folder-only': 'path "secret/metadata/" { capabilities = ["list"] }',
  'read-not-list': 'path "secret/*" { capabilities = ["read"] }\npath "kv1/*" { capabilities = ["read"] }',
  'kv1-deny-below-list': 'path "kv1/*" { capabilities = ["list", "read"] }\npath "kv1/private/*" { capabilities = ["deny"] }',
};

const FOLDERS = [
  'secret/metadata',
  'secret/metadata/app',
  'secret/metadata/private',
  'secret/metadata/private/deeper',
  'secret/metadata/public',
  'kv1',
  'kv1/app',
  'kv1/private',
];

const KEYS = ['secret/metadata/app/a', 'secret/metadata/private/p', 'secret/metadata/public/x', 'kv1/app/a', 'kv1/private/p'];

/** Each way a client may spell LIST of folder f. */
function listForms(f: string): { method: string; url: string }[] {
  const segs = f.split('/');
  const last = segs[segs.length - 1]!;
  const encodedLast = [...segs.slice(0, -1), `%${last.charCodeAt(0).toString(16).toUpperCase()}${last.slice(1)}`].join('/');
  return [
    { method: 'LIST', url: `/v1/${f}` },
    { method: 'LIST', url: `/v1/${f}/` },
    { method: 'GET', url: `/v1/${f}?list=true` },
    { method: 'GET', url: `/v1/${f}/?list=true` },
    { method: 'LIST', url: `/v1/${encodedLast}/` },
    { method: 'LIST', url: `/v1/${f.replaceAll('/', '%2F')}` },
    { method: 'GET', url: `/v1/${f.replaceAll('/', '%2f')}%2F?list=1` },
  ];
}

describe('ACL: sys/capabilities and the pipeline agree', () => {
  let s: TestServer;
  const tokens = new Map<string, string>();

  before(async () => {
    s = await startTestServer({ unsealed: true });
    await s.fetch('/v1/sys/mounts/kv1', { body: { type: 'kv' } });
    for (const k of KEYS) {
      if (k.startsWith('kv1/')) await s.fetch(`/v1/${k}`, { body: { v: 'x' } });
      else await s.fetch(`/v1/${k.replace('/metadata/', '/data/')}`, { body: { data: { v: 'x' } } });
    }
    await s.fetch('/v1/secret/data/private/deeper/q', { body: { data: { v: 'x' } } });
    for (const [name, policy] of Object.entries(POLICIES)) {
      await s.fetch(`/v1/sys/policy/${name}`, { body: { policy } });
      const created = await s.fetch('/v1/auth/token/create', { body: { policies: [name], no_default_policy: true } });
      tokens.set(name, (created.body!['auth'] as { client_token: string }).client_token);
    }
  });
  after(() => s.close());

  const capabilities = async (token: string, path: string): Promise<string[]> => {
    const res = await s.fetch('/v1/sys/capabilities', { body: { token, path } });
    const self = await s.fetch('/v1/sys/capabilities-self', { token, method: 'POST', body: { path } });
    const byToken = (res.body!['data'] as Record<string, string[]>)[path]!;
    // capabilities-self needs the default policy, which these tokens lack: it is denied, never wrong.
    if (self.status === 200) assert.deepEqual((self.body!['data'] as Record<string, string[]>)[path], byToken);
    return byToken;
  };

  it('answers LIST in every spelling exactly as sys/capabilities reports for the folder', async () => {
    let allowedSeen = 0;
    let deniedSeen = 0;
    for (const [name, token] of tokens) {
      for (const folder of FOLDERS) {
        const caps = await capabilities(token, `${folder}/`);
        const allowed = caps.includes('list');
        for (const form of listForms(folder)) {
          const res = await s.fetch(form.url, { method: form.method, token });
          const what = `${name}: ${form.method} ${form.url} (capabilities ${caps.join(',')})`;
          if (allowed) {
            assert.ok(res.status === 200 || (res.status === 404 && (res.body!['errors'] as unknown[]).length === 0), `${what}: expected allowed, got ${res.status}`);
            allowedSeen++;
          } else {
            assert.equal(res.status, 403, `${what}: expected 403`);
            assert.equal(res.body!['data'], undefined, `${what}: a denied list returns no data`);
            deniedSeen++;
          }
        }
      }
    }
    assert.ok(allowedSeen > 20 && deniedSeen > 20, 'the table covers both answers');
  });

  it('answers reads of a key exactly as sys/capabilities reports for it', async () => {
    for (const [name, token] of tokens) {
      for (const key of KEYS) {
        const caps = await capabilities(token, key);
        const forms = [`/v1/${key}`, `/v1/${key.replaceAll('/', '%2F')}`];
        for (const url of forms) {
          const res = await s.fetch(url, { token });
          assert.equal(res.status === 403, !caps.includes('read'), `${name}: GET ${url} gave ${res.status}, capabilities ${caps.join(',')}`);
        }
      }
    }
  });

  it('denies LIST of a folder under a deny rule while its parent grants list (the reported bypass)', async () => {
    const token = tokens.get('deny-below-list')!;
    assert.deepEqual(await capabilities(token, 'secret/metadata/private/'), ['deny']);
    for (const form of listForms('secret/metadata/private')) {
      assert.equal((await s.fetch(form.url, { method: form.method, token })).status, 403, `${form.method} ${form.url}`);
    }
    const root = await s.fetch('/v1/secret/metadata', { method: 'LIST', token });
    assert.deepEqual((root.body!['data'] as { keys: string[] }).keys, ['app/', 'private/', 'public/']);
  });

  it('refuses an empty path segment instead of guessing which path was meant', async () => {
    const token = tokens.get('deny-below-list')!;
    for (const url of ['/v1/secret/metadata//private/', '/v1/secret//metadata/private/', '/v1/secret/metadata/private//', '/v1/secret/metadata/%2Fprivate/']) {
      for (const method of ['LIST', 'GET']) {
        const res = await s.fetch(method === 'GET' ? `${url}?list=true` : url, { method, token });
        assert.equal(res.status, 400, `${method} ${url}`);
        assert.equal(res.body!['data'], undefined);
      }
    }
  });
});
