import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../../logical/index.js';
import { newTestCore } from '../testing.js';
import type { AuditEntry } from './broker.js';

/**
 * Every request passes the one pipeline, so an audit device sees each one exactly twice: one
 * request entry and one response entry, for requests served, denied, refused and failed alike.
 */
describe('the audit trail', () => {
  it('records one request and one response entry for every request, denials included', async () => {
    const t = await newTestCore();
    const entries: AuditEntry[] = [];
    t.core.enableAuditDevice({ name: 'test', log: async (e) => void entries.push(e) });
    await t.request('update', 'sys/policy/narrow', { policy: 'path "secret/data/open" { capabilities = ["read"] }' });
    const narrow = (await t.request('update', 'auth/token/create', { policies: ['narrow'] }))!.auth!.clientToken;

    const cases: [string, Operation, string, string, Record<string, unknown>][] = [
      ['allowed', 'update', 'secret/data/open', t.rootToken, { data: { a: 1 } }],
      ['no token', 'read', 'secret/data/open', '', {}],
      ['unknown token', 'read', 'secret/data/open', 'hvs.unknown', {}],
      ['ACL denial', 'read', 'secret/data/closed', narrow, {}],
      ['sudo denial', 'list', 'auth/token/accessors', narrow, {}],
      ['unknown path', 'read', 'nosuch/path', t.rootToken, {}],
      ['backend error', 'update', 'secret/data/open', t.rootToken, { data: 'not an object' }],
      ['not found', 'read', 'secret/data/missing', t.rootToken, {}],
      ['unauthenticated sys endpoint', 'read', 'sys/health', '', {}],
      ['seal status', 'read', 'sys/seal-status', '', {}],
      ['list', 'list', 'secret/metadata', narrow, {}],
    ];
    for (const [what, operation, path, token, data] of cases) {
      entries.length = 0;
      const id = `req-${what.replaceAll(' ', '-')}`;
      await t.core.handle({ id, operation, path, data, token }).catch(() => null);
      const mine = entries.filter((e) => e.requestId === id);
      assert.equal(mine.length, 2, `${what}: ${JSON.stringify(entries)}`);
      assert.deepEqual(mine.map((e) => e.type), ['request', 'response'], what);
      assert.ok(!JSON.stringify(mine).includes(t.rootToken) && !JSON.stringify(mine).includes(narrow), `${what}: no token in the trail`);
    }
  });

  it('names the error of a denied request in both entries, and the derived list path', async () => {
    const t = await newTestCore();
    const entries: AuditEntry[] = [];
    t.core.enableAuditDevice({ name: 'test', log: async (e) => void entries.push(e) });
    await t.core.handle({ id: 'x', operation: 'list', path: 'secret/metadata', data: {}, token: 'hvs.nope' }).catch(() => null);
    assert.deepEqual(entries.map((e) => [e.type, e.path, e.error]), [
      ['request', 'secret/metadata/', 'permission denied'],
      ['response', 'secret/metadata/', 'permission denied'],
    ]);
  });

  it('serves nothing that no device could record', async () => {
    const t = await newTestCore();
    t.core.enableAuditDevice({ name: 'broken', log: async () => Promise.reject(new Error('disk full')) });
    await assert.rejects(t.request('update', 'secret/data/unrecorded', { data: { a: 1 } }));
    t.core.enableAuditDevice({ name: 'working', log: async () => {} });
    assert.equal(await t.request('read', 'secret/data/unrecorded'), null, 'the unrecorded write never happened');
    assert.ok(await t.request('update', 'secret/data/x', { data: { a: 1 } }), 'one working device is enough');
  });
});
