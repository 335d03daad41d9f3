import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTestCore } from '../testing.js';
import { WindowSummary } from './summary.js';

/** The value of one series in Prometheus' text format ("name{labels} value"), or undefined. */
function series(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('telemetry', () => {
  it("reports Vault's core, route, barrier, policy and usage metrics under Vault's names", async () => {
    const t = await newTestCore();
    await t.request('update', 'secret/data/app', { data: { password: 'x' } });
    await t.request('read', 'secret/data/app');
    await t.request('update', 'sys/policy/app', { policy: 'path "secret/*" { capabilities = ["read"] }' });
    await t.request('update', 'auth/token/create', { policies: ['app'] });
    await t.request('update', 'sys/auth/userpass', { type: 'userpass' });
    await t.request('update', 'auth/userpass/users/alice', { password: 'pw', token_policies: ['app'] });
    await t.request('update', 'auth/userpass/login/alice', { password: 'pw' }, '');
    await t.core.refreshUsage();
    const text = await t.core.telemetry.prometheus();

    assert.equal(series(text, 'vault_core_unsealed'), 1);
    assert.equal(series(text, 'vault_core_active'), 1);
    assert.ok(series(text, 'vault_core_handle_request_count')! >= 6);
    assert.equal(series(text, 'vault_core_handle_login_request_count'), 1, 'the userpass login is timed apart');
    assert.equal(series(text, 'vault_route_read_secret__count'), 1, 'vault.route.read.secret-');
    assert.equal(series(text, 'vault_route_create_secret__count'), 1);
    assert.ok(Number.isFinite(series(text, 'vault_route_read_secret_', 'quantile="0.99"')));
    assert.ok(series(text, 'vault_barrier_get_count')! > 0);
    assert.ok(series(text, 'vault_barrier_put_count')! > 0);
    assert.equal(series(text, 'vault_policy_set_policy_count'), 2, 'default at initialisation, then app');
    assert.equal(series(text, 'vault_core_leadership_lost_count'), 0, 'the alert rule has a series to read');
    // Usage: the root token, the created one and alice's.
    assert.equal(series(text, 'vault_token_count', 'namespace="root"'), 3);
    assert.equal(series(text, 'vault_token_count_by_policy', 'namespace="root",policy="app"'), 2);
    assert.equal(series(text, 'vault_token_count_by_auth', 'namespace="root",auth_method="userpass"'), 1);
    assert.equal(series(text, 'vault_token_count_by_auth', 'namespace="root",auth_method="token"'), 2);
    assert.equal(series(text, 'vault_secret_kv_count', 'namespace="root",mount_point="secret/"'), 1);
    assert.equal(series(text, 'vault_identity_num_entities', 'namespace="root"'), 1, "alice's entity");
    assert.equal(series(text, 'vault_expire_num_leases'), 0);
    assert.ok(series(text, 'process_cpu_user_seconds_total')! > 0, 'the process metrics');
    assert.ok(series(text, 'nodejs_heap_size_used_bytes')! > 0, 'the Node runtime metrics');
    assert.match(text, /^# TYPE vault_core_handle_request summary$/m);

    await t.core.seal();
    assert.equal(series(await t.core.telemetry.prometheus(), 'vault_core_unsealed'), 0);
  });

  it('counts audit entries, and each device that could not write one', async () => {
    let failing = false;
    const t = await newTestCore({
      auditSinks: {
        flaky: { options: [], create: async () => ({ write: async () => (failing ? Promise.reject(new Error('full')) : undefined), reopen: async () => {}, close: async () => {} }) },
        steady: { options: [], create: async () => ({ write: async () => {}, reopen: async () => {}, close: async () => {} }) },
      },
    });
    await t.request('update', 'sys/audit/flaky', { type: 'flaky' });
    await t.request('read', 'sys/mounts');
    failing = true;
    await assert.rejects(t.request('read', 'sys/mounts'));
    let text = await t.core.telemetry.prometheus();
    assert.ok(series(text, 'vault_audit_log_request_count')! >= 2);
    assert.equal(series(text, 'vault_audit_log_request_failure'), 1);
    // With a second device the request is served, and the one that failed is counted all the same.
    failing = false;
    await t.request('update', 'sys/audit/steady', { type: 'steady' });
    failing = true;
    assert.ok(await t.request('read', 'sys/mounts'));
    text = await t.core.telemetry.prometheus();
    assert.equal(series(text, 'vault_audit_log_request_failure'), 2);
    assert.equal(series(text, 'vault_audit_log_response_failure'), 2);
  });

  it('answers sys/metrics as go-metrics JSON, or as Prometheus text with format=prometheus', async () => {
    const t = await newTestCore();
    await t.request('read', 'sys/mounts');
    const json = (await t.request('read', 'sys/metrics'))!.raw as { Timestamp: string; Gauges: { Name: string; Value: number }[]; Samples: { Name: string; Count: number }[]; Counters: unknown[] };
    assert.match(json.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    assert.equal(json.Gauges.find((g) => g.Name === 'vault.core.unsealed')?.Value, 1);
    assert.ok(json.Samples.some((s) => s.Name === 'vault.core.handle_request' && s.Count > 0));
    const prom = (await t.request('read', 'sys/metrics', { format: 'prometheus' }))!;
    assert.equal(prom.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(String(prom.raw), /^vault_core_unsealed 1$/m);
    await assert.rejects(t.request('read', 'sys/metrics', { format: 'yaml' }), /unsupported metrics format/);
  });

  it('turns the Prometheus format off with prometheus_retention_time 0', async () => {
    const t = await newTestCore({ telemetry: { prometheusRetentionTime: 0, disableHostname: true, usageGaugePeriod: 600 } });
    await assert.rejects(t.request('read', 'sys/metrics', { format: 'prometheus' }), /prometheus is not enabled/);
    assert.ok((await t.request('read', 'sys/metrics'))!.raw, 'JSON still answers');
  });
});

describe('WindowSummary', () => {
  it('answers the quantiles of recent observations, and a count and sum since start', () => {
    const s = new WindowSummary('vault.test.timer', 'A test timer.');
    assert.match(s.render(), /^vault_test_timer\{quantile="0.5"\} NaN$/m, 'no observation yet');
    for (let i = 1; i <= 100; i++) s.observe(i);
    const [p50, p90, p99] = s.quantiles();
    assert.deepEqual([p50, p90, p99], [51, 91, 100]);
    assert.match(s.render(), /^vault_test_timer_sum 5050$/m);
    assert.match(s.render(), /^vault_test_timer_count 100$/m);
    assert.deepEqual(s.stats(), { count: 100, sum: 5050, min: 1, max: 100, mean: 50.5 });
  });
});
