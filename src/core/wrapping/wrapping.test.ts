import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditSinkType, LogicalResponse, WrapInfo } from '../../logical/index.js';
import { ManualClock } from '../../util/index.js';
import { newTestCore, type TestCore } from '../testing.js';

async function wrapped(t: TestCore, operation: 'read' | 'update', path: string, data: Record<string, unknown> = {}, ttl = 300, token = t.rootToken): Promise<WrapInfo> {
  const res = (await t.core.handle({ operation, path, data, token, wrapTtl: ttl })).response;
  assert.ok(res?.wrapInfo, `${path} answered with a wrapping token`);
  assert.equal(res.data, undefined, 'and nothing else');
  return res.wrapInfo;
}

const unwrap = async (t: TestCore, wrappingToken: string): Promise<LogicalResponse | null> => (await t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: {}, token: wrappingToken })).response;
const invalid = /wrapping token is not valid or does not exist/;

describe('response wrapping', () => {
  it('answers a wrapped read with a wrapping token that unwraps, once, to the read', async () => {
    const t = await newTestCore();
    await t.request('update', 'secret/data/app', { data: { password: 'hunter2' } });
    const info = await wrapped(t, 'read', 'secret/data/app', {}, 300);
    assert.match(info.token, /^hvs\./);
    assert.equal(info.ttl, 300);
    assert.equal(info.creation_path, 'secret/data/app');
    assert.ok(!Number.isNaN(Date.parse(info.creation_time)));
    assert.equal(info.wrapped_accessor, '');
    const out = await unwrap(t, info.token);
    assert.deepEqual((out!.data as { data: unknown }).data, { password: 'hunter2' });
    assert.equal(out!.unwrapped?.mountType, 'kv');
    await assert.rejects(unwrap(t, info.token), invalid, 'a wrapping token unwraps once');
  });

  it('unwraps a token given in the body by a caller with a token of its own', async () => {
    const t = await newTestCore();
    const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { zip: 'zap', n: 1 });
    assert.equal(info.creation_path, 'sys/wrapping/wrap');
    const app = (await t.request('update', 'auth/token/create', { policies: ['default'] }))!.auth!.clientToken;
    const out = (await t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: { token: info.token }, token: app })).response;
    assert.deepEqual(out!.data, { zip: 'zap', n: 1 }, 'the data exactly as it was sent');
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: { token: info.token }, token: app }), invalid);
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: { token: 'hvs.nope' }, token: app }), invalid);
    await assert.rejects(t.request('update', 'sys/wrapping/wrap', { a: 1 }), /no wrap TTL was given/);
  });

  it('refuses an unwrap the caller\'s policy denies, leaving the wrapping token unspent', async () => {
    const t = await newTestCore();
    const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { kept: 'yes' });
    await t.request('update', 'sys/policy/no-unwrap', { policy: 'path "sys/wrapping/unwrap" { capabilities = ["deny"] }' });
    const denied = (await t.request('update', 'auth/token/create', { policies: ['default', 'no-unwrap'] }))!.auth!.clientToken;
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: { token: info.token }, token: denied }), /permission denied/);
    assert.deepEqual((await unwrap(t, info.token))!.data, { kept: 'yes' }, 'the refused request spent nothing');
  });

  it('lets a wrapping token do nothing but unwrap, look itself up and rewrap', async () => {
    const t = await newTestCore();
    const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { a: '1' });
    for (const [operation, path] of [['read', 'secret/data/app'], ['read', 'auth/token/lookup-self'], ['update', 'sys/wrapping/wrap'], ['read', 'sys/mounts']] as const) {
      await assert.rejects(t.core.handle({ operation, path, data: {}, token: info.token, wrapTtl: 0 }), /permission denied/, path);
    }
    // Looking up spends nothing, with the token as the client token or in the body.
    const seen = (await t.core.handle({ operation: 'update', path: 'sys/wrapping/lookup', data: {}, token: info.token })).response!.data;
    assert.deepEqual(seen, { creation_path: 'sys/wrapping/wrap', creation_time: info.creation_time, creation_ttl: 300 });
    assert.deepEqual((await t.core.handle({ operation: 'update', path: 'sys/wrapping/lookup', data: { token: info.token }, token: '' })).response!.data, seen);
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/lookup', data: { token: 'hvs.nope' }, token: '' }), invalid);
    // Rewrapping: a new token for the same response; the old one is spent.
    const again = (await t.core.handle({ operation: 'update', path: 'sys/wrapping/rewrap', data: {}, token: info.token })).response!.wrapInfo!;
    assert.notEqual(again.token, info.token);
    assert.equal(again.ttl, 300);
    await assert.rejects(unwrap(t, info.token), invalid);
    assert.deepEqual((await unwrap(t, again.token))!.data, { a: '1' });
  });

  it('unwraps exactly once under 50 parallel unwraps, by client token or in the body', async () => {
    const t = await newTestCore();
    for (const inBody of [false, true]) {
      const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { once: 'yes' });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () =>
          t.core.handle({ operation: 'update', path: 'sys/wrapping/unwrap', data: inBody ? { token: info.token } : {}, token: inBody ? t.rootToken : info.token }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      assert.equal(ok.length, 1, inBody ? 'in the body' : 'as the client token');
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), invalid);
    }
  });

  it('wraps a login: the wrapped token is named by wrapped_accessor and works once unwrapped', async () => {
    const t = await newTestCore();
    await t.request('update', 'sys/auth/userpass', { type: 'userpass' });
    await t.request('update', 'auth/userpass/users/alice', { password: 'pw', token_policies: ['default'] });
    const info = await wrapped(t, 'update', 'auth/userpass/login/alice', { password: 'pw' }, 60, '');
    const out = await unwrap(t, info.token);
    assert.equal(out!.auth!.accessor, info.wrapped_accessor);
    assert.ok(await t.request('read', 'auth/token/lookup-self', {}, out!.auth!.clientToken), 'the unwrapped token is live');
  });

  it('lets a wrapping token expire with its TTL, taking its response with it', async () => {
    const clock = new ManualClock();
    const t = await newTestCore({ clock });
    const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { a: '1' }, 60);
    clock.advance(61);
    await t.core.sweepExpiredTokens();
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/lookup', data: { token: info.token }, token: '' }), invalid);
    await assert.rejects(unwrap(t, info.token), invalid);
    await assert.rejects(t.core.handle({ operation: 'update', path: 'sys/wrapping/wrap', data: {}, token: t.rootToken, wrapTtl: 10 * 365 * 86_400 }), /longer than the maximum/);
  });

  it('audits a wrapped response with its wrap_info, the wrapping token hashed', async () => {
    const lines: string[] = [];
    const memory: AuditSinkType = { options: [], create: async () => ({ write: async (l) => void lines.push(l), reopen: async () => {}, close: async () => {} }) };
    const t = await newTestCore({ auditSinks: { memory } });
    await t.request('update', 'sys/audit/mem', { type: 'memory' });
    lines.length = 0;
    const info = await wrapped(t, 'update', 'sys/wrapping/wrap', { secret: 's3cret' });
    const response = JSON.parse(lines.at(-1)!) as { response: { wrap_info: WrapInfo } };
    assert.match(response.response.wrap_info.token, /^hmac-sha256:/);
    assert.equal(response.response.wrap_info.creation_path, 'sys/wrapping/wrap');
    assert.ok(!lines.join('').includes(info.token) && !lines.join('').includes('s3cret'));
  });
});
