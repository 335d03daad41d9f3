import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, initAndUnseal, startServerProcess, tempDir } from '../e2e/server-process.js';
import { autocannonLoad, measured, median, readSetup, stop, wrkLoad, type Measured } from './common.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);

/**
 * Issue 8 (a): the cost of auditing. The same KV v2 read against the same server, with no audit
 * device and with one file device, in alternating rounds (ABBA, as the read benchmark does) so
 * that both meet the same machine. The device is enabled and disabled through sys/audit between
 * runs; its file is on the local disk, as an operator's would be, and is deleted after each run
 * (a run writes about 1 GB of entries): each round measures what auditing costs the server, not
 * how fast this machine's disk takes gigabytes of earlier rounds' log.
 */
export async function auditBench(): Promise<string[]> {
  const dir = tempDir('coffer-bench-audit-');
  const server = await startServerProcess(dir, undefined, { pin: 0 });
  try {
    const { rootToken: root } = await initAndUnseal(server.url);
    const token = await readSetup(server.url, root, { password: 'hunter2', user: 'app' });
    const url = `${server.url}/v1/secret/data/app`;
    const headers = { 'x-vault-token': token };
    const file = join(dir, 'audit.log');
    const audit = async (on: boolean) => {
      const res = on
        ? await api(server.url, 'sys/audit/file', { method: 'PUT', body: { type: 'file', options: { file_path: file } }, token: root })
        : await api(server.url, 'sys/audit/file', { method: 'DELETE', token: root });
      if (res.status !== 204) throw new Error(`audit ${on ? 'enable' : 'disable'} answered ${res.status}`);
    };
    // wrk when Debian's is installed (it costs the load core less), else autocannon.
    const load = async () => (await wrkLoad(url, headers)) ?? (await autocannonLoad(url, { headers }));
    await autocannonLoad(url, { headers, duration: 5 });
    const pairs: { none: Measured; file: Measured }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let none: Measured | null = null;
      let withFile: Measured | null = null;
      for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
        if (on) await audit(true);
        const m = await measured(server.proc.pid!, load);
        if (on) {
          withFile = m;
          await audit(false);
          rmSync(file, { force: true });
        } else none = m;
      }
      if (none && withFile) pairs.push({ none, file: withFile });
    }
    const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
    const cost = pairs.map((p) => (1 - p.file.rps / p.none.rps) * 100);
    return [
      '',
      `audit (issue 8 a): GET secret/data/app, ${ROUNDS} rounds alternating no device / one file device`,
      '',
      '| round | no audit req/s | file audit req/s | throughput cost | server CPU µs per request (none / file) | p99 ms (none / file) | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...pairs.map(
        (p, i) =>
          `| ${i + 1} | ${fmt(p.none.rps)} | ${fmt(p.file.rps)} | ${cost[i]!.toFixed(1)}% | ${p.none.cpuUs.toFixed(1)} / ${p.file.cpuUs.toFixed(1)} | ${p.none.p99} / ${p.file.p99} | ${p.none.errors + p.file.errors} |`,
      ),
      '',
      `one file audit device costs ${median(cost).toFixed(1)}% of read throughput (median of ${cost.length}; range ${Math.min(...cost).toFixed(1)}–${Math.max(...cost).toFixed(1)}%; goal: at most 20%)`,
    ];
  } finally {
    await stop(server);
  }
}
