import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditSinkType, Operation } from '../../logical/index.js';
import { newTestCore } from '../testing.js';

/** An audit device type whose devices keep their entries in memory, and can be told to fail. */
function memorySinks() {
  const lines = new Map<string, string[]>();
  const broken = new Set<string>();
  const closed = new Set<string>();
  const unopenable = new Set<string>();
  const type: AuditSinkType = {
    options: ['name'],
    create: async (options) => {
      const name = options['name'] ?? '';
      if (unopenable.has(name)) throw new Error('cannot open');
      if (!lines.has(name)) lines.set(name, []);
      return {
        write: async (line) => {
          if (broken.has(name)) throw new Error('disk full');
          lines.get(name)!.push(line);
        },
        reopen: async () => {},
        close: async () => void closed.add(name),
      };
    },
  };
  const entries = (name: string) => (lines.get(name) ?? []).map((l) => JSON.parse(l) as AuditEntry);
  const raw = (name: string) => lines.get(name) ?? [];
  return { sinks: { memory: type }, entries, raw, broken, closed, unopenable, clear: () => lines.forEach((l) => (l.length = 0)) };
}

interface AuditEntry {
  type: string;
  error?: string;
  auth: Record<string, unknown>;
  request: { id: string; path: string; operation: string; data: unknown; client_token?: string; client_token_accessor?: string; mount_type?: string; headers?: Record<string, string[]> };
  response?: { data?: unknown };
}

/**
 * Every request passes the one pipeline, so an audit device sees each one exactly twice: one
 * request entry and one response entry, for requests served, denied, refused and failed alike.
 */
describe('the audit trail', () => {
  async function audited() {
    const mem = memorySinks();
    const t = await newTestCore({ auditSinks: mem.sinks });
    await t.request('update', 'sys/audit/mem', { type: 'memory', options: { name: 'a' } });
    return { t, mem };
  }

  it('records one request and one response entry for every request, denials included', async () => {
    const { t, mem } = await audited();
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
      mem.clear();
      const id = `req-${what.replaceAll(' ', '-')}`;
      await t.core.handle({ id, operation, path, data, token }).catch(() => null);
      const mine = mem.entries('a').filter((e) => e.request.id === id);
      assert.deepEqual(mine.map((e) => e.type), ['request', 'response'], `${what}: ${JSON.stringify(mem.entries('a'))}`);
      const text = JSON.stringify(mine);
      assert.ok(!text.includes(t.rootToken) && !text.includes(narrow), `${what}: no token in the trail`);
      if (token !== '') assert.match(mine[0]!.request.client_token ?? '', /^hmac-sha256:[0-9a-f]{64}$/, what);
    }
  });

  it('names the error of a denied request in both entries, and the derived list path', async () => {
    const { t, mem } = await audited();
    mem.clear();
    await t.core.handle({ id: 'x', operation: 'list', path: 'secret/metadata', data: {}, token: 'hvs.nope' }).catch(() => null);
    assert.deepEqual(mem.entries('a').map((e) => [e.type, e.request.path, e.error]), [
      ['request', 'secret/metadata/', 'permission denied'],
      ['response', 'secret/metadata/', 'permission denied'],
    ]);
  });

  it('hashes every string of the data it records, and writes the mount that served it', async () => {
    const { t, mem } = await audited();
    await t.request('update', 'secret/data/app', { data: { password: 'hunter2', port: 5432 } });
    mem.clear();
    await t.request('read', 'secret/data/app');
    const [request, response] = mem.entries('a');
    assert.equal(request!.request.mount_type, 'kv');
    const data = (response!.response!.data as { data: { password: string; port: number } }).data;
    assert.match(data.password, /^hmac-sha256:/);
    assert.equal(data.port, 5432, 'numbers are written as they are');
    const { data: hashed } = (await t.request('update', 'sys/audit-hash/mem', { input: 'hunter2' }))!;
    assert.equal(data.password, hashed!['hash'], 'sys/audit-hash answers what the device wrote');
  });

  it("writes the keys a mount's audit_non_hmac tuning names in the clear", async () => {
    const { t, mem } = await audited();
    await t.request('update', 'sys/mounts/secret/tune', { audit_non_hmac_request_keys: ['options'], audit_non_hmac_response_keys: ['created_time'] });
    mem.clear();
    await t.request('update', 'secret/data/tuned', { data: { password: 'p' }, options: { cas: 0 } });
    const [request, response] = mem.entries('a');
    assert.deepEqual((request!.request.data as Record<string, unknown>)['options'], { cas: 0 });
    assert.match(((request!.request.data as Record<string, Record<string, string>>)['data']!)['password']!, /^hmac-sha256:/, 'other keys are hashed');
    const written = response!.response!.data as Record<string, unknown>;
    assert.match(String(written['created_time']), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(written['deletion_time']), /^hmac-sha256:/, 'other keys are hashed');
  });

  it('takes the options every device type takes: log_raw, hmac_accessor, prefix, elide_list_responses, format', async () => {
    const { t, mem } = await audited();
    await t.request('update', 'secret/data/listed/one', { data: { password: 'p1' } });
    const lookup = (await t.request('update', 'auth/token/create', { policies: ['default'] }))!.auth!;
    const enable = (name: string, options: Record<string, string>) => t.request('update', `sys/audit/${name}`, { type: 'memory', options: { name, ...options } });
    await enable('raw', { log_raw: 'true' });
    await enable('plain-accessor', { hmac_accessor: 'false', prefix: 'AUDIT: ' });
    await enable('elided', { elide_list_responses: 'true' });
    await enable('xml', { format: 'jsonx' });
    mem.clear();
    await t.core.handle({ operation: 'read', path: 'secret/data/listed/one', data: {}, token: lookup.clientToken }).catch(() => null);
    await t.request('list', 'secret/metadata/listed');

    const raw = mem.entries('raw');
    assert.equal(raw[0]!.request.client_token, lookup.clientToken, 'log_raw writes the token as it is');
    assert.equal((raw.at(-1)!.response!.data as { keys: string[] }).keys[0], 'one');
    const plain = mem.raw('plain-accessor');
    assert.ok(plain.every((l) => l.startsWith('AUDIT: ')), 'every entry starts with the prefix');
    const first = JSON.parse(plain[0]!.slice('AUDIT: '.length)) as AuditEntry;
    assert.equal(first.request.client_token_accessor, lookup.accessor, 'hmac_accessor=false writes the accessor as it is');
    assert.match(first.request.client_token!, /^hmac-sha256:/, 'the token is still hashed');
    assert.equal((mem.entries('elided').at(-1)!.response!.data as { keys: number }).keys, 1, 'a list answer is its count');
    const xml = mem.raw('xml');
    assert.match(xml[0]!, /^<\?xml version="1\.0" encoding="UTF-8"\?><json:object xmlns:json="http:\/\/www\.ibm\.com\/xmlns\/prod\/2009\/jsonx">/);
    assert.match(xml[0]!, /<json:string name="type">request<\/json:string>/);

    const bad = (options: Record<string, string>) => t.request('update', 'sys/audit/bad', { type: 'memory', options: { name: 'bad', ...options } });
    await assert.rejects(bad({ format: 'yaml' }), /invalid format/);
    await assert.rejects(bad({ log_raw: 'maybe' }), /unable to parse 'log_raw'/);
    await assert.rejects(bad({ nope: '1' }), /unknown option "nope" for a memory audit device/);
    await assert.rejects(bad({ filter: 'mount_type == kv' }), /not supported/);
    await assert.rejects(t.request('update', 'sys/audit/raw/nested', { type: 'memory', options: { name: 'n' } }), /path already in use/);
    await assert.rejects(t.request('update', 'sys/audit/x', { type: 'nosuch' }), /unknown audit device type "nosuch"/);
  });

  it('takes a device path with or without its slash, and numbers where options are strings', async () => {
    const { t } = await audited();
    await t.request('update', 'sys/audit/slashed/', { type: 'memory', options: { name: 'n', prefix: 7 } });
    const listed = (await t.request('read', 'sys/audit/'))!.data as Record<string, { options: Record<string, string> }>;
    assert.deepEqual(listed['slashed/']!.options, { name: 'n', prefix: '7' });
    await t.request('delete', 'sys/audit/slashed');
    assert.equal(((await t.request('read', 'sys/audit'))!.data as Record<string, unknown>)['slashed/'], undefined);
    await t.request('update', 'sys/policy/no-audit', { policy: 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }\npath "sys/audit/*" { capabilities = ["deny"] }' });
    const denied = (await t.request('update', 'auth/token/create', { policies: ['no-audit'] }))!.auth!.clientToken;
    await assert.rejects(t.request('update', 'sys/audit/other', { type: 'memory', options: { name: 'o' } }, denied), /permission denied/);
    await assert.rejects(t.request('delete', 'sys/audit/mem', {}, denied), /permission denied/);
    assert.ok(await t.request('read', 'sys/audit', {}, denied), 'the list is not under the denied tree');
  });

  it('records the request headers an operator chose, hashed where asked', async () => {
    const { t, mem } = await audited();
    await t.request('update', 'sys/config/auditing/request-headers/X-Forwarded-For', { hmac: false });
    await t.request('update', 'sys/config/auditing/request-headers/x-correlation-id', { hmac: true });
    assert.deepEqual((await t.request('read', 'sys/config/auditing/request-headers'))!.data, { headers: { 'x-forwarded-for': { hmac: false }, 'x-correlation-id': { hmac: true } } });
    assert.deepEqual((await t.request('read', 'sys/config/auditing/request-headers/x-forwarded-for'))!.data, { 'x-forwarded-for': { hmac: false } });
    mem.clear();
    await t.core.handle({ operation: 'read', path: 'sys/mounts', data: {}, token: t.rootToken, headers: { 'x-forwarded-for': '10.1.2.3', 'x-correlation-id': 'abc', 'user-agent': 'curl' } });
    const headers = mem.entries('a')[0]!.request.headers!;
    assert.deepEqual(headers['x-forwarded-for'], ['10.1.2.3']);
    assert.match(headers['x-correlation-id']![0]!, /^hmac-sha256:/);
    assert.equal(headers['user-agent'], undefined, 'only the headers chosen');
    await t.request('delete', 'sys/config/auditing/request-headers/x-correlation-id');
    await assert.rejects(t.request('read', 'sys/config/auditing/request-headers/x-correlation-id'), /Could not find header in config/);
    await assert.rejects(t.request('update', 'sys/config/auditing/request-headers/bad header', { hmac: true }), /invalid header name/);
  });

  it('keeps a device that cannot open at unseal, failing closed until it can', async () => {
    const { t, mem } = await audited();
    await t.core.seal();
    mem.unopenable.add('a');
    await t.core.unseal(t.keys[0]!);
    await assert.rejects(t.request('read', 'sys/mounts'), /internal error/, 'nothing is served unrecorded');
    mem.unopenable.delete('a');
    mem.clear();
    assert.ok(await t.request('read', 'sys/mounts'));
    assert.deepEqual(mem.entries('a').map((e) => e.type), ['request', 'response']);
  });

  it('records both entries of the request that seals the server, and closes its devices after it', async () => {
    const { t, mem } = await audited();
    mem.clear();
    await t.core.handle({ id: 'seal', operation: 'update', path: 'sys/seal', data: {}, token: t.rootToken });
    assert.deepEqual(mem.entries('a').map((e) => [e.type, e.request.path, e.error]), [
      ['request', 'sys/seal', undefined],
      ['response', 'sys/seal', undefined],
    ]);
    assert.ok(mem.closed.has('a'), 'sealing closed the device');
  });

  it('writes both entries of a request to the device it started with, even if the device is disabled meanwhile', async () => {
    const { t, mem } = await audited();
    mem.clear();
    await t.request('delete', 'sys/audit/mem');
    assert.deepEqual(mem.entries('a').map((e) => [e.type, e.request.path]), [
      ['request', 'sys/audit/mem'],
      ['response', 'sys/audit/mem'],
    ]);
    assert.ok(mem.closed.has('a'));
    await t.request('read', 'sys/mounts');
    assert.equal(mem.entries('a').length, 2, 'nothing after it was disabled');
  });

  it('serves nothing that no device could record, and keeps serving while one of two can', async () => {
    const { t, mem } = await audited();
    mem.broken.add('a');
    await assert.rejects(t.request('update', 'secret/data/unrecorded', { data: { a: 1 } }), /internal error/);
    mem.broken.delete('a');
    assert.equal(await t.request('read', 'secret/data/unrecorded'), null, 'the unrecorded write never happened');

    await t.request('update', 'sys/audit/second', { type: 'memory', options: { name: 'b' } });
    mem.broken.add('a');
    mem.clear();
    assert.ok(await t.request('update', 'secret/data/x', { data: { a: 1 } }), 'one working device is enough');
    assert.deepEqual(mem.entries('b').map((e) => e.type), ['request', 'response'], 'the working device recorded both entries');
  });

  it('leaves requests a rate limit refused out of the log, unless enable_rate_limit_audit_logging', async () => {
    const { t, mem } = await audited();
    await t.request('update', 'sys/quotas/rate-limit/tight', { path: 'secret/', rate: 1, interval: '1h' });
    await t.request('read', 'secret/data/limited').catch(() => {});
    mem.clear();
    await assert.rejects(t.request('read', 'secret/data/limited'), /rate limit quota exceeded/);
    assert.deepEqual(mem.entries('a'), [], 'not logged by default');
    await t.request('update', 'sys/quotas/config', { enable_rate_limit_audit_logging: true });
    mem.clear();
    await assert.rejects(t.request('read', 'secret/data/limited'), /rate limit quota exceeded/);
    assert.deepEqual(mem.entries('a').map((e) => [e.type, e.error]), [
      ['request', 'request path "secret/data/limited": rate limit quota exceeded'],
      ['response', 'request path "secret/data/limited": rate limit quota exceeded'],
    ]);
  });
});
