import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { startTestServer } from './testing.js';

/** sys/metrics over HTTP, as Prometheus scrapes it (the article's ServiceMonitor: ?format=prometheus). */
describe('sys/metrics over HTTP', () => {
  it('needs a token with read on sys/metrics, and answers Prometheus text with its content type', async () => {
    const s = await startTestServer({ unsealed: true });
    try {
      const denied = await fetch(`${s.url}/v1/sys/metrics?format=prometheus`);
      assert.equal(denied.status, 403);
      await s.fetch('/v1/sys/policy/metrics', { method: 'PUT', body: { policy: 'path "sys/metrics" { capabilities = ["read"] }' } });
      const created = await s.fetch('/v1/auth/token/create', { method: 'POST', body: { policies: ['metrics'] } });
      const token = (created.body!['auth'] as { client_token: string }).client_token;
      const res = await fetch(`${s.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': token } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      assert.match(text, /^vault_core_unsealed 1$/m);
      // Every line is one Prometheus can parse: a comment, or a sample "name{labels} value".
      const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (NaN|[+-]Inf|-?\d+(\.\d+)?(e[+-]?\d+)?)$/;
      const typed = new Set<string>();
      for (const line of text.split('\n').filter((l) => l !== '')) {
        const type = /^# TYPE (\S+) (counter|gauge|summary|histogram|untyped)$/.exec(line);
        if (type) {
          assert.ok(!typed.has(type[1]!), `one TYPE line for ${type[1]}`);
          typed.add(type[1]!);
        } else if (!line.startsWith('# HELP ')) assert.match(line, sample);
      }
      const openMetrics = await fetch(`${s.url}/v1/sys/metrics`, { headers: { 'X-Vault-Token': token, Accept: 'application/openmetrics-text; version=1.0.0' } });
      assert.match(await openMetrics.text(), /^# TYPE vault_core_unsealed gauge$/m, 'Accept: application/openmetrics-text asks for the text format');
      const json = await fetch(`${s.url}/v1/sys/metrics`, { headers: { 'X-Vault-Token': token } });
      assert.equal(json.headers.get('content-type'), 'application/json');
      assert.ok(Array.isArray(((await json.json()) as { Gauges: unknown }).Gauges));
    } finally {
      await s.close();
    }
  });

  it('answers anyone, sealed or not, on a listener with unauthenticated_metrics_access', async () => {
    const s = await startTestServer({ unauthenticatedMetricsAccess: true });
    try {
      const sealed = await fetch(`${s.url}/v1/sys/metrics?format=prometheus`);
      assert.equal(sealed.status, 200);
      const text = await sealed.text();
      assert.match(text, /^vault_core_unsealed 0$/m, "the article's VaultSealed alert reads this");
      assert.match(text, /^vault_core_active 0$/m);
    } finally {
      await s.close();
    }
  });
});

describe('sys/in-flight-req and sys/host-info', () => {
  it('lists the requests being answered (this one among them) and describes the host', async () => {
    const s = await startTestServer({ unsealed: true });
    try {
      const res = await s.fetch('/v1/sys/in-flight-req');
      assert.equal(res.status, 200);
      const mine = Object.values(res.body as Record<string, { request_path: string; request_method: string; client_remote_address: string; start_time: string }>);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.request_path, '/v1/sys/in-flight-req');
      assert.equal(mine[0]!.request_method, 'GET');
      assert.match(mine[0]!.client_remote_address, /^127\.0\.0\.1:\d+$/);
      assert.ok(!Number.isNaN(Date.parse(mine[0]!.start_time)));

      const info = (await s.fetch('/v1/sys/host-info')).body!['data'] as { cpu: unknown[]; cpu_times: { cpu: string }[]; disk: { path: string; total: number }[]; host: { hostname: string }; memory: { total: number }; timestamp: string };
      assert.equal(info.cpu.length, os.cpus().length);
      assert.equal(info.cpu_times[0]!.cpu, 'cpu-total');
      assert.equal(info.host.hostname, os.hostname());
      assert.equal(info.memory.total, os.totalmem());
      assert.ok(info.disk.some((d) => d.path === '/' && d.total > 0));

      await s.fetch('/v1/sys/policy/reader', { method: 'PUT', body: { policy: 'path "sys/*" { capabilities = ["read"] }' } });
      const token = ((await s.fetch('/v1/auth/token/create', { method: 'POST', body: { policies: ['reader'] } })).body!['auth'] as { client_token: string }).client_token;
      assert.equal((await s.fetch('/v1/sys/config/state/sanitized', { token })).status, 403, 'the sanitized configuration needs sudo');
      assert.equal((await s.fetch('/v1/sys/config/state/sanitized')).status, 200);
    } finally {
      await s.close();
    }
  });
});
