import { api, startServerProcess, tempDir, unsealWith, waitFor } from '../e2e/server-process.js';
import {
  CONNECTIONS, DURATION, autocannonLoad, fillSecrets, measured, median, pinSelf, readSetup, rssMb, startBare, stop, wrkLoad, type Load, type Measured,
} from './common.js';
import { auditBench } from './audit.js';
import { leaseBench } from './leases.js';
import { loginBench } from './logins.js';
import { snapshotBench } from './snapshot.js';
import { scrapeBench } from './telemetry.js';

/**
 * `npm run bench`: the read path against a bare node:http server (measured with autocannon,
 * the bench's own load generator, and with Debian's wrk, in alternating rounds), durable KV v2
 * writes on SQLite, and memory and restart time with a million secrets stored. Servers are
 * pinned to CPU 0 (taskset); the load generators run pinned to CPU 1.
 */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECRETS = Number(process.env['BENCH_SECRETS'] ?? 1_000_000);

async function main(): Promise<void> {
  pinSelf(1);
  // BENCH_ONLY=leases runs only the lease and database figures.
  if (process.env['BENCH_ONLY'] === 'leases') {
    process.stdout.write(`${(await leaseBench()).join('\n')}\n`);
    process.exit(0);
  }
  if (process.env['BENCH_ONLY'] === 'logins') {
    process.stdout.write(`${(await loginBench()).join('\n')}\n`);
    process.exit(0);
  }
  if (process.env['BENCH_ONLY'] === 'audit') {
    process.stdout.write(`${(await auditBench()).join('\n')}\n`);
    process.exit(0);
  }
  if (process.env['BENCH_ONLY'] === 'telemetry') {
    process.stdout.write(`${(await scrapeBench()).join('\n')}\n`);
    process.exit(0);
  }
  if (process.env['BENCH_ONLY'] === 'snapshot') {
    process.stdout.write(`${(await snapshotBench()).join('\n')}\n`);
    process.exit(0);
  }
  const bare = await startBare();
  const dir = tempDir('coffer-bench-');
  let server = await startServerProcess(dir, undefined, { pin: 0 });
  const init = await api(server.url, 'sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 } });
  const keys = init.body!['keys'] as string[];
  const root = String(init.body!['root_token']);
  await unsealWith(server.url, keys.slice(0, 3));
  const token = await readSetup(server.url, root, { password: 'hunter2' });
  const readUrl = `${server.url}/v1/secret/data/app`;
  const readHeaders = { 'x-vault-token': token };

  // Warm-up (JIT on one core), then rounds alternating the two servers so that both meet the
  // same machine: on a shared VM the speed of a core drifts from minute to minute, so each
  // round is a pair run back to back, in alternating order (ABBA) to cancel a steady drift.
  await autocannonLoad(bare.url, { duration: 5 });
  await autocannonLoad(readUrl, { headers: readHeaders, duration: 5 });
  const rounds: { tool: string; bare: Measured; coffer: Measured }[] = [];
  const pair = async (tool: string, runBare: () => Promise<Load | null>, runCoffer: () => Promise<Load | null>, bareFirst: boolean): Promise<void> => {
    let b = bareFirst ? await measured(bare.proc.pid!, runBare) : null;
    const c = await measured(server.proc.pid!, runCoffer);
    if (!bareFirst) b = await measured(bare.proc.pid!, runBare);
    if (b && c) rounds.push({ tool, bare: b, coffer: c });
  };
  for (let r = 0; r < ROUNDS; r++) {
    await pair('autocannon', () => autocannonLoad(bare.url), () => autocannonLoad(readUrl, { headers: readHeaders }), r % 2 === 0);
    await pair('wrk', () => wrkLoad(bare.url, {}), () => wrkLoad(readUrl, readHeaders), r % 2 === 1);
  }
  bare.proc.kill();

  let n = 0;
  const w = await autocannonLoad(`${server.url}/v1/secret/data/w`, {
    method: 'POST',
    headers: { 'x-vault-token': root, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, path: `/v1/secret/data/w/${n++}`, body: JSON.stringify({ data: { value: `v${n}` } }) }) }],
  });

  // Fill up to SECRETS stored secrets (the writes above count), then measure memory and restart.
  const stored = n;
  let filled = stored;
  let fillErrors = 0;
  if (stored < SECRETS) {
    const fill = await fillSecrets(server.url, root, stored, SECRETS - stored);
    filled += fill.written;
    fillErrors = fill.failed;
  }
  const rss = rssMb(server.proc.pid!);
  await stop(server);
  const t0 = performance.now();
  server = await startServerProcess(dir, server.port, { pin: 0 });
  await unsealWith(server.url, keys.slice(2, 5));
  await waitFor('a read after unseal', async () => (await api(server.url, 'secret/data/app', { token: root })).status === 200);
  const restartMs = performance.now() - t0;
  const rssRestarted = rssMb(server.proc.pid!);
  await stop(server);

  const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const lines = [
    `coffer benchmark — ${CONNECTIONS} keep-alive connections, ${DURATION}s per run, ${ROUNDS} rounds, servers pinned to CPU 0, load on CPU 1`,
    '',
    '| load generator | (a) bare node:http req/s | (b) coffer GET secret/data/app req/s | (b)/(a) | server CPU µs per request (a) / (b) | p99 (a) / (b) ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rounds.map((r) => `| ${r.tool} | ${fmt(r.bare.rps)} | ${fmt(r.coffer.rps)} | ${((r.coffer.rps / r.bare.rps) * 100).toFixed(1)}% | ${r.bare.cpuUs.toFixed(1)} / ${r.coffer.cpuUs.toFixed(1)} | ${r.bare.p99} / ${r.coffer.p99} | ${r.bare.errors + r.coffer.errors} |`),
    '',
  ];
  for (const tool of ['autocannon', 'wrk']) {
    const mine = rounds.filter((r) => r.tool === tool);
    if (mine.length === 0) {
      lines.push(`${tool}: not run (install Debian's wrk)`);
      continue;
    }
    const ratios = mine.map((r) => (r.coffer.rps / r.bare.rps) * 100);
    const cpu = mine.map((r) => (r.bare.cpuUs / r.coffer.cpuUs) * 100);
    lines.push(
      `(b) is ${median(ratios).toFixed(1)}% of (a) with ${tool} (median of ${ratios.length}; range ${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}%; goal: at least 75%); ` +
        `by server CPU time per request, ${median(cpu).toFixed(1)}% (range ${Math.min(...cpu).toFixed(1)}–${Math.max(...cpu).toFixed(1)}%)`,
    );
  }
  lines.push(
    `(c) durable KV v2 writes, SQLite, ${CONNECTIONS} connections: ${fmt(w.rps)}/s, p99 ${w.p99} ms, ${w.errors} errors (goal: at least 6,000/s)`,
    `with ${fmt(filled)} secrets stored (${fillErrors} failed writes): RSS ${rss.toFixed(0)} MB (goal: at most 400 MB); restart + unseal + first read ${(restartMs / 1000).toFixed(2)} s (goal: at most 3 s), RSS after it ${rssRestarted.toFixed(0)} MB`,
  );
  lines.push(...(await leaseBench()));
  lines.push(...(await loginBench()));
  lines.push(...(await auditBench()));
  lines.push(...(await scrapeBench()));
  lines.push(...(await snapshotBench()));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

await main();
