import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { api, initAndUnseal, shell, startServerProcess, tempDir, type ServerProcess } from './server-process.js';

const RUNBOOK = fileURLToPath(new URL('../../docs/runbook.md', import.meta.url));

/** The runbook's command lines, block by block: only blocks marked `shell runbook` are run. */
function runbookLines(): string[] {
  const text = readFileSync(RUNBOOK, 'utf8');
  const lines: string[] = [];
  for (const m of text.matchAll(/```shell runbook\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) if (line.trim() !== '' && !line.trim().startsWith('#')) lines.push(line.trim());
  }
  return lines;
}

/** What a command printed that later commands of the runbook use, as an operator would copy it. */
const CAPTURES: readonly [string, RegExp][] = [
  ['throwaway-key', /^Unseal Key 1: (\S+)$/m],
  ['throwaway-root-token', /^Initial Root Token: (\S+)$/m],
  ['otp', /^OTP\s+(\S+)$/m],
  ['encoded-token', /^Encoded Token\s+(\S+)$/m],
];

describe('the operator runbook (docs/runbook.md), command by command', () => {
  let prod: ServerProcess;
  let fresh: ServerProcess;
  const dir = tempDir('coffer-runbook-');
  const values = new Map<string, string>();
  before(async () => {
    // A production server with a secret, restarted so that it is sealed, as after a reboot.
    const first = await startServerProcess(dir);
    const { keys, rootToken } = await initAndUnseal(first.url);
    await api(first.url, 'sys/mounts/secret', { body: { type: 'kv-v2' }, token: rootToken });
    await api(first.url, 'secret/data/app', { body: { data: { password: 'runbook-secret' } }, token: rootToken });
    first.proc.kill('SIGTERM');
    await first.exited;
    prod = await startServerProcess(dir, first.port);
    fresh = await startServerProcess(tempDir('coffer-runbook-fresh-'));
    keys.slice(0, 3).forEach((k, i) => values.set(`key-${i + 1}`, k));
    values.set('root-token', rootToken);
    values.set('address', prod.url);
    values.set('fresh-address', fresh.url);
    values.set('backup-dir', tempDir('coffer-runbook-backups-'));
  });
  after(async () => {
    for (const s of [prod, fresh]) s.proc.kill('SIGTERM');
    await Promise.all([prod.exited, fresh.exited]);
  });

  it('unseals, backs up, recovers onto a fresh server and regenerates the root token as written', async () => {
    const env: Record<string, string> = { HOME: dir };
    const outputs: string[] = [];
    for (const line of runbookLines()) {
      const command = line.replace(/<([a-z0-9-]+)>/g, (_, name: string) => {
        const v = values.get(name);
        assert.ok(v !== undefined, `the runbook line "${line}" needs <${name}>, which no earlier step gave`);
        return v;
      });
      const exported = /^export (\w+)=(\S+)$/.exec(command);
      if (exported) {
        env[exported[1]!] = exported[2]!;
        continue;
      }
      const r = await shell(command, env);
      // `coffer status` exits 2 while sealed, as Vault's does: that is its answer, not a failure.
      const expected = command === 'coffer status' && /Sealed\s+true/.test(r.out) ? 2 : 0;
      assert.equal(r.code, expected, `${line}\n${r.out}${r.err}`);
      outputs.push(r.out);
      for (const [name, pattern] of CAPTURES) {
        const m = pattern.exec(r.out);
        if (m) values.set(name, m[1]!);
      }
      if (command.includes('generate-root -decode')) values.set('new-root-token', r.out.trim());
    }

    // Section 1 unsealed the production server; section 2 backed it up, automated snapshots included.
    assert.equal((await api(prod.url, 'sys/seal-status')).body!['sealed'], false);
    assert.ok(existsSync(join(values.get('backup-dir')!, 'coffer.snap')));
    assert.ok(outputs.some((o) => /next_snapshot_start\s+\d{4}-/.test(o)), 'the automated snapshot status was read');
    // Section 3 brought the secret back on the fresh server, under the original shares.
    assert.ok(outputs.some((o) => /password\s+runbook-secret/.test(o)), 'kv get showed the restored secret');
    assert.equal((await api(fresh.url, 'sys/seal-status')).body!['n'], 5);
    // Section 4: the new root token works and the original is revoked.
    const newRoot = values.get('new-root-token')!;
    assert.match(newRoot, /^hvs\.[A-Za-z0-9]{24}$/);
    assert.equal((await api(fresh.url, 'auth/token/lookup-self', { token: newRoot })).status, 200);
    assert.equal((await api(fresh.url, 'auth/token/lookup-self', { token: values.get('root-token')! })).status, 403);
  });
});
