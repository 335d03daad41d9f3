import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScratchSyslog, rsyslogMissing } from '../audit/testing.js';
import { api, initAndUnseal, runCli, shell, startServerProcess, tempDir, unsealWith, waitFor, type ServerProcess } from './server-process.js';

interface Entry {
  type: string;
  time: string;
  error?: string;
  auth: { client_token?: string; accessor?: string; display_name?: string; policies?: string[]; token_policies?: string[]; token_type?: string };
  request: { id: string; operation: string; path: string; mount_type?: string; mount_accessor?: string; remote_address: string; namespace: { id: string }; data: Record<string, unknown> | null };
  response?: { data?: Record<string, unknown> };
}

const entries = (file: string): Entry[] =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Entry) : [];

describe('audit devices on a running server', () => {
  const dir = tempDir('coffer-audit-e2e-');
  const log = join(dir, 'audit', 'vault-audit.log');
  let server: ServerProcess;
  let root = '';
  let env: Record<string, string>;
  before(async () => {
    server = await startServerProcess(dir);
    root = (await initAndUnseal(server.url)).rootToken;
    env = { HOME: dir, COFFER_ADDR: server.url, COFFER_TOKEN: root };
    assert.equal((await api(server.url, 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
  });
  after(async () => {
    server.proc.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("enables the article's file device verbatim and lists it", async () => {
    const enabled = await shell(`coffer audit enable file file_path=${log}`, env);
    assert.equal(enabled.code, 0, enabled.err);
    assert.equal(enabled.out.trim(), 'Success! Enabled the file audit device at: file/');
    assert.equal(fs.statSync(log).mode & 0o777, 0o600);
    const list = await runCli(['audit', 'list', '-detailed'], env);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`^file/\\s+file\\s+n/a\\s+replicated\\s+file_path=${log.replaceAll('/', '\\/')}$`, 'm'));
    const again = await runCli(['audit', 'enable', 'file', `file_path=${log}`], env);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /path already in use/);
  });

  it('records who read what, every secret and token hashed, and sys/audit-hash finds the value', async () => {
    assert.equal((await runCli(['kv', 'put', 'secret/app', 'password=hunter2'], env)).code, 0);
    const before = entries(log).length;
    const read = await api(server.url, 'secret/data/app', { token: root });
    assert.equal(read.status, 200);
    const mine = entries(log).slice(before);
    assert.deepEqual(mine.map((e) => e.type), ['request', 'response']);
    const [request, response] = mine as [Entry, Entry];
    assert.equal(request.request.id, response.request.id);
    assert.equal(request.request.path, 'secret/data/app');
    assert.equal(request.request.operation, 'read');
    assert.equal(request.request.mount_type, 'kv');
    assert.equal(request.request.remote_address, '127.0.0.1');
    assert.deepEqual(request.request.namespace, { id: 'root' });
    assert.deepEqual(request.auth.policies, ['root']);
    assert.equal(request.auth.token_type, 'service');
    assert.match(request.auth.client_token!, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.match(request.auth.accessor!, /^hmac-sha256:/);
    const password = (response.response!.data!['data'] as Record<string, string>)['password']!;
    const hash = await runCli(['write', '-field=hash', 'sys/audit-hash/file', 'input=hunter2'], env);
    assert.equal(hash.out.trim(), password);
    const text = fs.readFileSync(log, 'utf8');
    assert.ok(!text.includes('hunter2') && !text.includes(root), 'no secret and no token in the log');
  });

  it('records a denied request and a request with no token, each with its error', async () => {
    const before = entries(log).length;
    assert.equal((await api(server.url, 'secret/data/app', { token: 'hvs.not-a-token' })).status, 403);
    assert.equal((await api(server.url, 'sys/seal-status')).status, 200);
    const mine = entries(log).slice(before);
    assert.deepEqual(mine.map((e) => [e.type, e.request.path, e.error]), [
      ['request', 'secret/data/app', 'permission denied'],
      ['response', 'secret/data/app', 'permission denied'],
      ['request', 'sys/seal-status', undefined],
      ['response', 'sys/seal-status', undefined],
    ]);
  });

  it('reopens its file on SIGHUP, so a rotated log goes on in a new file', async () => {
    fs.renameSync(log, `${log}.1`);
    server.proc.kill('SIGHUP');
    await waitFor('the reopened audit file', async () => fs.existsSync(log));
    assert.equal((await api(server.url, 'sys/mounts', { token: root })).status, 200);
    assert.deepEqual(entries(log).map((e) => [e.type, e.request.path]), [['request', 'sys/mounts'], ['response', 'sys/mounts']]);
    assert.ok(!entries(`${log}.1`).some((e) => e.request.path === 'sys/mounts'));
  });

  it('writes to a new file when its file is deleted under it', async () => {
    fs.unlinkSync(log);
    assert.equal((await api(server.url, 'sys/mounts', { token: root })).status, 200);
    assert.deepEqual(entries(log).map((e) => e.type), ['request', 'response']);
  });

  it('serves nothing while its only device cannot write: 500, and the write is not made', async () => {
    fs.chmodSync(log, 0o444);
    const refused = await api(server.url, 'secret/data/unaudited', { token: root, body: { data: { a: '1' } } });
    assert.equal(refused.status, 500);
    assert.deepEqual(refused.body, { errors: ['internal error'] });
    fs.chmodSync(log, 0o600);
    assert.equal((await api(server.url, 'secret/data/unaudited', { token: root })).status, 404, 'the refused write never happened');
    assert.match(server.logs(), /audit device failed to write/);
  });

  const noSyslog = rsyslogMissing();
  it("enables the article's syslog device verbatim; with two devices one failing does not stop the other", { skip: noSyslog }, async () => {
    // The article's command uses the system's syslog socket; this machine has none, so the test
    // runs a real rsyslogd on /dev/log for as long as it needs one.
    const own = fs.existsSync('/dev/log') ? null : await ScratchSyslog.start('/dev/log');
    try {
      const enabled = await shell('coffer audit enable syslog tag="vault" facility="AUTH"', env);
      assert.equal(enabled.code, 0, enabled.err);
      assert.equal(enabled.out.trim(), 'Success! Enabled the syslog audit device at: syslog/');
      fs.chmodSync(log, 0o444);
      const written = await api(server.url, 'secret/data/both', { token: root, body: { data: { a: '1' } } });
      assert.equal(written.status, 200, 'syslog still records it');
      if (own) {
        await waitFor('the entries in syslog', async () => own.messages().some((m) => m.includes('"path":"secret/data/both"') && m.includes('"type":"response"')));
        // AUTH (4) * 8 + informational (6), tag "vault".
        assert.match(own.messages().find((m) => m.includes('secret/data/both'))!, /^<38>.* vault\[\d+\]: \{"time":/);
      }
      fs.chmodSync(log, 0o600);
      const disabled = await runCli(['audit', 'disable', 'syslog'], env);
      assert.equal(disabled.out.trim(), 'Success! Disabled audit device (if it was enabled) at: syslog/');
    } finally {
      fs.chmodSync(log, 0o600);
      await own?.stop();
    }
  });

  it('disables a device: its file keeps what it wrote and gets nothing more', async () => {
    assert.equal((await runCli(['audit', 'disable', 'file'], env)).code, 0);
    const count = entries(log).length;
    assert.equal((await api(server.url, 'sys/mounts', { token: root })).status, 200);
    assert.equal(entries(log).length, count);
    const list = await runCli(['audit', 'list'], env);
    assert.equal(list.code, 2);
    assert.equal(list.out.trim(), 'No audit devices are enabled.');
  });
});

describe('audit devices declared in the configuration file', () => {
  const dir = tempDir('coffer-audit-declared-');
  const log = join(dir, 'declared.log');
  const declare = (path: string) => `audit "file" "declared" {\n  description = "from the config file"\n  options {\n    file_path = "${path}"\n    hmac_accessor = false\n  }\n}\n`;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens at unseal before anything is served, cannot be disabled by the API, and an unopenable one keeps the server sealed', async () => {
    let server = await startServerProcess(dir, undefined, { extraConfig: declare(log) });
    let keys: string[] = [];
    try {
      const init = await initAndUnseal(server.url);
      keys = init.keys;
      const first = await api(server.url, 'sys/audit', { token: init.rootToken });
      assert.deepEqual((first.body!['data'] as Record<string, unknown>)['declared/'], { type: 'file', description: 'from the config file', options: { file_path: log, hmac_accessor: 'false' }, local: false, path: 'declared/' });
      assert.deepEqual(entries(log).map((e) => [e.type, e.request.path]), [['request', 'sys/audit'], ['response', 'sys/audit']], 'the first request after unseal is recorded');
      assert.doesNotMatch(entries(log)[0]!.auth.accessor!, /^hmac-sha256:/, 'hmac_accessor = false is applied');
      const disable = await api(server.url, 'sys/audit/declared', { method: 'DELETE', token: init.rootToken });
      assert.equal(disable.status, 400);
      assert.match(String((disable.body!['errors'] as string[])[0]), /declared in the server configuration file/);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }

    // The same server told to audit to where it cannot write: it refuses to unseal.
    fs.writeFileSync(join(dir, 'not-a-dir'), '');
    server = await startServerProcess(dir, server.port, { extraConfig: declare(join(dir, 'not-a-dir', 'audit.log')) });
    try {
      await unsealWith(server.url, keys.slice(0, 2));
      const refused = await api(server.url, 'sys/unseal', { method: 'PUT', body: { key: keys[2] } });
      assert.equal(refused.status, 500);
      assert.match(String((refused.body!['errors'] as string[])[0]), /audit device "declared\/" of the configuration file cannot start: sanity check failed; unable to open .* for writing: (ENOTDIR|EEXIST)/);
      const status = await api(server.url, 'sys/seal-status');
      assert.equal(status.body!['sealed'], true);
      assert.match(server.logs(), /unseal failed: the server cannot start serving; it stays sealed/);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });
});
