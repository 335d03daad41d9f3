import autocannon from 'autocannon';
import { api, initAndUnseal, startServerProcess, tempDir, waitFor } from '../e2e/server-process.js';
import { median, stop } from './common.js';

const TOKENS = Number(process.env['BENCH_TOKENS'] ?? 10_000);
const MOUNTS = 50;
const SCRAPES = 50;

/**
 * Issue 8 (b): how long a Prometheus scrape of sys/metrics takes on a server holding 10,000
 * tokens and 50 mounts, each mount read once (so each has its route timer) and the usage gauges
 * counted (usage_gauge_period 5s here), scraped one at a time as Prometheus does.
 */
export async function scrapeBench(): Promise<string[]> {
  const dir = tempDir('coffer-bench-scrape-');
  const extraConfig = 'telemetry {\n  disable_hostname = true\n  usage_gauge_period = "5s"\n}\n';
  const server = await startServerProcess(dir, undefined, { pin: 0, extraConfig });
  try {
    const { rootToken: root } = await initAndUnseal(server.url);
    for (let i = 0; i < MOUNTS; i++) {
      await api(server.url, `sys/mounts/kv${i}`, { body: { type: 'kv-v2' }, token: root });
      await api(server.url, `kv${i}/data/app`, { body: { data: { password: 'x' } }, token: root });
      await api(server.url, `kv${i}/data/app`, { token: root });
    }
    await api(server.url, 'sys/policy/app', { body: { policy: 'path "kv0/*" { capabilities = ["read"] }' }, token: root });
    const made = await autocannon({
      url: `${server.url}/v1/auth/token/create`,
      connections: 16,
      amount: TOKENS,
      method: 'POST',
      headers: { 'x-vault-token': root, 'content-type': 'application/json' },
      body: JSON.stringify({ policies: ['app'], ttl: '24h' }),
    });
    const scrape = async () => {
      const res = await fetch(`${server.url}/v1/sys/metrics?format=prometheus`, { headers: { 'x-vault-token': root } });
      return res.text();
    };
    await waitFor('the usage gauges to count the tokens', async () => {
      const m = /^vault_token_count\{namespace="root"\} (\d+)$/m.exec(await scrape());
      return m !== null && Number(m[1]) >= made['2xx'];
    }, 60_000);
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = performance.now();
      bytes = (await scrape()).length;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!;
    return [
      '',
      `telemetry (issue 8 b): GET sys/metrics?format=prometheus with ${made['2xx']} tokens created and ${MOUNTS} KV mounts, ${SCRAPES} scrapes one after another`,
      `scrape time median ${median(times).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB each (goal: at most 50 ms)`,
    ];
  } finally {
    await stop(server);
  }
}
