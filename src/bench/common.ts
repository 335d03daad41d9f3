import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { api, freePort, type ServerProcess } from '../e2e/server-process.js';

/** What every benchmark shares: load generators, the bare node:http server, CPU accounting. */
const HERE = dirname(fileURLToPath(import.meta.url));
export const CONNECTIONS = 64;
export const DURATION = Number(process.env['BENCH_SECONDS'] ?? 10);

export interface Load {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
}

export interface Measured extends Load {
  /** Server CPU time (user + system) per request, in microseconds. */
  readonly cpuUs: number;
}

/** CPU time a process has used, in microseconds (from /proc, in clock ticks of 10 ms). */
export function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Run load against the server with this pid, and note the CPU time it spent per request. */
export async function measured(pid: number, load: () => Promise<Load | null>): Promise<Measured | null> {
  const before = cpuUs(pid);
  const t0 = performance.now();
  const l = await load();
  if (l === null) return null;
  const requests = l.rps * ((performance.now() - t0) / 1000);
  return { ...l, cpuUs: (cpuUs(pid) - before) / requests };
}

export function pinSelf(cpu: number): void {
  spawn('taskset', ['-pc', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

export async function autocannonLoad(url: string, opts: Partial<autocannon.Options> = {}): Promise<Load> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1, ...opts });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/**
 * wrk on CPU 1 with one thread, or null when Debian's wrk is not installed. Its latencies are
 * in microseconds (autocannon's are whole milliseconds).
 */
export function wrkLoad(url: string, headers: Record<string, string>, seconds = DURATION, connections = CONNECTIONS): Promise<Load | null> {
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  return new Promise((resolve) => {
    execFile('taskset', args, { timeout: (seconds + 30) * 1000 }, (e, out) => {
      if (e) return resolve(null);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      resolve(Number.isFinite(rps) ? { rps, p99: ms, errors: non2xx } : null);
    });
  });
}

export async function startBare(): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn('taskset', ['-c', '0', process.execPath, join(HERE, 'bare-server.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => proc.stdout!.once('data', () => r()));
  return { proc, url: `http://127.0.0.1:${port}` };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

export async function stop(p: ServerProcess): Promise<void> {
  p.proc.kill('SIGTERM');
  await p.exited;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};


/**
 * What the read benchmarks read: KV v2 at secret/, secret/data/app with the given data, and a
 * token whose only policy reads it. Answers that token.
 */
export async function readSetup(url: string, root: string, data: Record<string, string>): Promise<string> {
  await api(url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: root });
  await api(url, 'secret/data/app', { body: { data }, token: root });
  await api(url, 'sys/policy/app', { body: { policy: 'path "secret/data/app" { capabilities = ["read"] }' }, token: root });
  return ((await api(url, 'auth/token/create', { body: { policies: ['app'] }, token: root })).body!['auth'] as { client_token: string }).client_token;
}

/**
 * Write `count` KV v2 secrets, secret/data/fill/<from>… (value "secret-<i>"), from CONNECTIONS
 * connections; answers how many were written and how many failed.
 */
export async function fillSecrets(url: string, token: string, from: number, count: number): Promise<{ written: number; failed: number }> {
  let next = from;
  const fill = await autocannon({
    url: `${url}/v1/secret/data/fill`,
    connections: CONNECTIONS,
    amount: count,
    method: 'POST',
    headers: { 'x-vault-token': token, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => { const i = next++; return { ...req, path: `/v1/secret/data/fill/${i}`, body: JSON.stringify({ data: { value: `secret-${i}` } }) }; } }],
  });
  return { written: fill['2xx'], failed: fill.errors + fill.non2xx };
}
