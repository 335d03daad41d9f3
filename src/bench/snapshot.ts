import { api, initAndUnseal, startServerProcess, tempDir } from '../e2e/server-process.js';
import { fillSecrets, median, stop } from './common.js';

const SECRETS = Number(process.env['BENCH_SNAPSHOT_SECRETS'] ?? 100_000);
const RUNS = 3;

/**
 * Issue 8 (c): snapshot save and restore with 100,000 KV v2 secrets stored on SQLite. Save is the
 * whole GET of sys/storage/raft/snapshot, to the last byte; restore is the POST of that file back
 * to the same server, until it has reloaded everything and answered (goal: at most 10 s each).
 */
export async function snapshotBench(): Promise<string[]> {
  const dir = tempDir('coffer-bench-snapshot-');
  // A restore's body counts against max_request_size: this listener takes up to 1 GiB.
  const server = await startServerProcess(dir, undefined, { pin: 0, listenerConfig: '  max_request_size = 1073741824\n' });
  try {
    const { rootToken: root } = await initAndUnseal(server.url);
    await api(server.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: root });
    const fill = await fillSecrets(server.url, root, 0, SECRETS);
    const headers = { 'x-vault-token': root };
    let file = Buffer.alloc(0);
    const saves: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v1/sys/storage/raft/snapshot`, { headers });
      file = Buffer.from(await res.arrayBuffer());
      saves.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`snapshot save answered ${res.status}`);
    }
    const restores: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v1/sys/storage/raft/snapshot`, { method: 'POST', headers, body: file });
      restores.push(performance.now() - t0);
      if (res.status !== 204) throw new Error(`snapshot restore answered ${res.status}: ${await res.text()}`);
    }
    const probe = await api(server.url, `secret/data/fill/${SECRETS - 1}`, { token: root });
    const ok = (probe.body?.['data'] as { data?: { value?: string } } | undefined)?.data?.value === `secret-${SECRETS - 1}`;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return [
      `(c) snapshots with ${fill.written.toLocaleString('en-US')} KV v2 secrets on SQLite (${fill.failed} failed writes), file ${(file.length / 1024 / 1024).toFixed(1)} MiB, ${RUNS} runs each:`,
      `    save median ${s(median(saves))} (max ${s(Math.max(...saves))}); restore median ${s(median(restores))} (max ${s(Math.max(...restores))}) (goal: at most 10 s each); the last secret reads back after restore: ${ok}`,
    ];
  } finally {
    await stop(server);
  }
}
