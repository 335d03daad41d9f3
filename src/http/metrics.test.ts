import assert from 'node:assert/strict';
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
      assert.match(await res.text(), /^vault_core_unsealed 1$/m);
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
