import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, freePort, initAndUnseal, startServerProcess, tempDir, waitFor } from './server-process.js';

/** Run `coffer server` with a config and collect what it says before it exits. */
function serverFails(config: string): Promise<{ code: number; err: string }> {
  const dir = tempDir('coffer-start-');
  const file = join(dir, 'coffer.hcl');
  writeFileSync(file, config);
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'server', `-config=${file}`, '-log-level=error'], { timeout: 20_000 }, (e, _out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, err }),
    );
  });
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('server start', () => {
  it('creates the SQLite file and its WAL readable by the owner only', async () => {
    const dir = tempDir('coffer-mode-');
    const server = await startServerProcess(dir);
    try {
      await initAndUnseal(server.url);
      const db = join(dir, 'coffer.db');
      assert.equal(mode(db), 0o600);
      assert.ok(existsSync(`${db}-wal`), 'the WAL exists while the server runs');
      assert.equal(mode(`${db}-wal`), 0o600);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });

  it('names the file another server holds, a missing directory, and a listener that cannot start', async () => {
    const dir = tempDir('coffer-held-');
    const first = await startServerProcess(dir);
    try {
      const port = await freePort();
      const second = await serverFails(`storage "sqlite" { path = "${join(dir, 'coffer.db')}" }\nlistener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\n`);
      assert.equal(second.code, 1);
      assert.match(second.err, new RegExp(`another coffer server \\(or another program\\) holds ${join(dir, 'coffer.db')}`));
    } finally {
      first.proc.kill('SIGTERM');
      await first.exited;
    }

    const missing = join(tempDir('coffer-nodir-'), 'no', 'such');
    const nodir = await serverFails(`storage "sqlite" { path = "${join(missing, 'coffer.db')}" }\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\n`);
    assert.equal(nodir.code, 1);
    assert.match(nodir.err, new RegExp(`the directory ${missing} does not exist`));

    const unresolved = await serverFails(`storage "inmem" {}\nlistener "tcp" {\n  address = "no-such-host.invalid:8200"\n  tls_disable = true\n}\n`);
    assert.equal(unresolved.code, 1);
    assert.match(unresolved.err, /Error starting the server: listener "no-such-host\.invalid:8200": cannot listen: the host name does not resolve/);
    assert.doesNotMatch(unresolved.err, /cannot reach the server/);
  });

  it('-dev logs the CLI in: the root token is written to ~/.coffer-token, mode 0600', async () => {
    const home = tempDir('coffer-devhome-');
    const port = await freePort();
    const proc = spawn(process.execPath, [BIN, 'server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, '-log-level=error'], { env: { PATH: process.env['PATH'] ?? '', HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => proc.on('exit', r));
    try {
      const tokenFile = join(home, '.coffer-token');
      await waitFor('the root token in the banner', async () => /Root Token: \S+/.test(out));
      const root = /Root Token: (\S+)/.exec(out)![1]!;
      assert.equal(readFileSync(tokenFile, 'utf8'), root);
      assert.equal(mode(tokenFile), 0o600);
      const lookup = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(process.execPath, [BIN, 'token', 'lookup', '-format=json'], { env: { PATH: process.env['PATH'] ?? '', HOME: home, COFFER_ADDR: `http://127.0.0.1:${port}` } }, (e, o) =>
          resolve({ code: e ? 1 : 0, out: o }),
        ),
      );
      assert.equal(lookup.code, 0, 'the CLI is authenticated without COFFER_TOKEN');
      assert.deepEqual((JSON.parse(lookup.out) as { data: { policies: string[] } }).data.policies, ['root']);
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
  });
});
