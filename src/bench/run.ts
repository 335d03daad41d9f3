import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { api, freePort, startServerProcess, tempDir, unsealWith, waitFor, type ServerProcess } from '../e2e/server-process.js';

/**
 * `npm run bench`: throughput and latency of the read path against a bare node:http server,
 * durable KV v2 writes on SQLite, and memory and restart time with 100,000 secrets stored.
 * Servers are pinned to CPU 0 (taskset); the load generator runs here, pinned to CPU 1.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 64;
const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);
const SECRETS = Number(process.env['BENCH_SECRETS'] ?? 100_000);

interface Row {
  readonly name: string;
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
}

function pinSelf(cpu: number): void {
  spawn('taskset', ['-pc', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

async function load(url: string, opts: Partial<autocannon.Options> = {}): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1, ...opts });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

async function startBare(): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, join(HERE, 'bare-server.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => proc.stdout!.once('data', () => r()));
  return { proc, url: `http://127.0.0.1:${port}` };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function stop(p: ServerProcess): Promise<void> {
  p.proc.kill('SIGTERM');
  await p.exited;
}

async function main(): Promise<void> {
  pinSelf(1);
  const rows: Row[] = [];

  const bare = await startBare();
  await load(bare.url, { duration: 5 }); // warm-up
  const a = await load(bare.url);
  rows.push({ name: '(a) bare node:http, small JSON', ...a });
  bare.proc.kill();

  const dir = tempDir('coffer-bench-');
  let server = await startServerProcess(dir, undefined, { pin: 0 });
  const init = await api(server.url, 'sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 } });
  const keys = init.body!['keys'] as string[];
  const root = String(init.body!['root_token']);
  await unsealWith(server.url, keys.slice(0, 3));
  await api(server.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: root });
  await api(server.url, 'secret/data/app', { body: { data: { password: 'hunter2' } }, token: root });
  await api(server.url, 'sys/policy/app', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' }, token: root });
  const token = ((await api(server.url, 'auth/token/create', { body: { policies: ['app'] }, token: root })).body!['auth'] as { client_token: string }).client_token;

  const readOpts = { headers: { 'x-vault-token': token } };
  await load(`${server.url}/v1/secret/data/app`, { ...readOpts, duration: 5 }); // warm-up: JIT on one core
  const b = await load(`${server.url}/v1/secret/data/app`, readOpts);
  rows.push({ name: '(b) coffer GET secret/data/app, non-root token', ...b });

  let n = 0;
  const w = await load(`${server.url}/v1/secret/data/w`, {
    method: 'POST',
    headers: { 'x-vault-token': root, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, path: `/v1/secret/data/w/${n++}`, body: JSON.stringify({ data: { value: `v${n}` } }) }) }],
  });
  rows.push({ name: '(c) coffer KV v2 writes, SQLite, durable', ...w });

  // Fill up to SECRETS stored secrets (the writes above count), then measure memory and restart.
  const stored = n;
  let next = stored;
  const fill = async () => {
    while (next < SECRETS) {
      const i = next++;
      await api(server.url, `secret/data/fill/${i}`, { body: { data: { value: `secret-${i}` } }, token: root });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, fill));
  const rss = rssMb(server.proc.pid!);
  await stop(server);
  const t0 = performance.now();
  server = await startServerProcess(dir, server.port, { pin: 0 });
  await unsealWith(server.url, keys.slice(2, 5));
  await waitFor('a read after unseal', async () => (await api(server.url, 'secret/data/app', { token: root })).status === 200);
  const restartMs = performance.now() - t0;
  await stop(server);

  const pct = (b.rps / a.rps) * 100;
  const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const lines = [
    `coffer benchmark — ${CONNECTIONS} keep-alive connections, ${DURATION}s per run, servers pinned to one core`,
    '',
    '| run | requests/s | p99 latency (ms) | errors |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.rps)} | ${r.p99} | ${r.errors} |`),
    '',
    `(b) is ${pct.toFixed(1)}% of (a) (goal: at least 50%)`,
    `durable KV v2 writes: ${fmt(w.rps)}/s (goal: at least 3,000/s)`,
    `with ${fmt(Math.max(SECRETS, stored))} secrets stored: RSS ${rss.toFixed(0)} MB (goal: at most 400 MB), restart + unseal + first read ${(restartMs / 1000).toFixed(2)} s (goal: at most 3 s)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

await main();

