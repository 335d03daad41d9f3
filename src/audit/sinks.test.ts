import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../e2e/server-process.js';
import { silentLogger } from '../util/index.js';
import { fileSinkType } from './file.js';
import { socketSinkType } from './socket.js';
import { syslogSinkType } from './syslog.js';
import { ScratchSyslog, rsyslogMissing } from './testing.js';

const ctx = { logger: silentLogger };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('the file audit device', () => {
  it('appends one line per entry to a file only its owner may read', async () => {
    const file = path.join(dir, 'new', 'audit.log');
    const sink = await fileSinkType.create({ file_path: file }, ctx);
    await Promise.all([sink.write('{"a":1}'), sink.write('{"a":2}')]);
    await sink.write('{"a":3}');
    assert.deepEqual(lines(file), ['{"a":1}', '{"a":2}', '{"a":3}']);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700, 'a directory it made is private too');
    await sink.close();
  });

  it('gives the file the mode asked for, and leaves it as it is with "0000"', async () => {
    const file = path.join(dir, 'mode.log');
    await (await fileSinkType.create({ file_path: file, mode: '0640' }, ctx)).close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    fs.chmodSync(file, 0o604);
    await (await fileSinkType.create({ path: file, mode: '0000' }, ctx)).close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o604, '"path" is the old name of file_path');
  });

  it('refuses what it cannot open, naming the option and not the entry', async () => {
    await assert.rejects(fileSinkType.create({}, ctx), /file_path is required/);
    await assert.rejects(fileSinkType.create({ file_path: path.join(dir, 'x'), mode: 'rw' }, ctx), /invalid mode/);
    fs.writeFileSync(path.join(dir, 'plain'), '');
    await assert.rejects(fileSinkType.create({ file_path: path.join(dir, 'plain', 'audit.log') }, ctx), /sanity check failed; unable to open .* for writing: (ENOTDIR|EEXIST)/);
  });

  it('takes stdout and discard', async () => {
    const discard = await fileSinkType.create({ file_path: 'discard' }, ctx);
    await discard.write('{}');
    await fileSinkType.create({ file_path: 'stdout' }, ctx);
  });

  it('reopens its file when told (log rotation): later entries go to the new file', async () => {
    const file = path.join(dir, 'rotated.log');
    const sink = await fileSinkType.create({ file_path: file }, ctx);
    await sink.write('before');
    fs.renameSync(file, `${file}.1`);
    await sink.write('still the old file until reopened');
    await sink.reopen();
    await sink.write('after');
    assert.deepEqual(lines(`${file}.1`), ['before', 'still the old file until reopened']);
    assert.deepEqual(lines(file), ['after']);
    await sink.close();
  });

  it('notices its file deleted under it and writes to a new one, never into the deleted file', async () => {
    const file = path.join(dir, 'deleted.log');
    const sink = await fileSinkType.create({ file_path: file }, ctx);
    await sink.write('one');
    fs.unlinkSync(file);
    await sink.write('two');
    assert.deepEqual(lines(file), ['two']);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    await sink.close();
  });

  it('fails every write while its file is made unwritable, and writes again once it is not', async () => {
    const file = path.join(dir, 'readonly.log');
    const sink = await fileSinkType.create({ file_path: file }, ctx);
    await sink.write('one');
    fs.chmodSync(file, 0o444);
    await assert.rejects(sink.write('lost?'), /audit file write failed/);
    fs.chmodSync(file, 0o600);
    await sink.write('three');
    assert.deepEqual(lines(file), ['one', 'three'], 'a refused entry is not in the file');
    await sink.close();
  });
});

describe('the socket audit device', () => {
  /** A TCP or Unix stream server collecting the lines it receives. */
  async function lineServer(listen: (s: net.Server) => void) {
    const got: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        got.push(...parts);
      });
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => {
      server.once('listening', r);
      listen(server);
    });
    const dropAll = () => sockets.forEach((s) => s.destroy());
    return { got, server, dropAll, close: () => new Promise<void>((r) => (dropAll(), server.close(() => r()))) };
  }

  it('writes newline-terminated entries to a TCP peer, and reconnects when the peer drops it', async () => {
    const peer = await lineServer((s) => s.listen(0, '127.0.0.1'));
    const address = `127.0.0.1:${(peer.server.address() as net.AddressInfo).port}`;
    const sink = await socketSinkType.create({ address, socket_type: 'tcp' }, ctx);
    await sink.write('{"n":1}');
    await waitFor('the first entry', async () => peer.got.length === 1);
    peer.dropAll();
    // What TCP accepted before the reset reached the sink is gone, as with any TCP peer; once the
    // sink sees the reset it connects again and what follows arrives.
    let n = 1;
    await waitFor('an entry over a new connection', async () => {
      await sink.write(`{"n":${++n}}`);
      return peer.got.length > 1;
    });
    assert.equal(peer.got[0], '{"n":1}');
    assert.match(peer.got.at(-1)!, /^\{"n":\d+\}$/);
    await sink.close();
    await peer.close();
  });

  it('writes to a Unix socket', async () => {
    const file = path.join(dir, 'audit.sock');
    const peer = await lineServer((s) => s.listen(file));
    const sink = await socketSinkType.create({ address: file, socket_type: 'unix' }, ctx);
    await sink.write('{"unix":true}');
    await waitFor('the entry', async () => peer.got.length === 1);
    assert.deepEqual(peer.got, ['{"unix":true}']);
    await sink.close();
    await peer.close();
  });

  it('sends one datagram per entry over UDP', async () => {
    const got: string[] = [];
    const peer = dgram.createSocket('udp4', (m) => got.push(m.toString()));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const sink = await socketSinkType.create({ address: `127.0.0.1:${peer.address().port}`, socket_type: 'udp' }, ctx);
    await sink.write('{"udp":1}');
    await waitFor('the datagram', async () => got.length === 1);
    assert.deepEqual(got, ['{"udp":1}\n']);
    await sink.close();
    peer.close();
  });

  it('is not enabled when it cannot reach its peer, or is told something it cannot use', async () => {
    const closed = await lineServer((s) => s.listen(0, '127.0.0.1'));
    const port = (closed.server.address() as net.AddressInfo).port;
    await closed.close();
    await assert.rejects(socketSinkType.create({ address: `127.0.0.1:${port}` }, ctx), /failed to connect to the audit socket at 127\.0\.0\.1:\d+: ECONNREFUSED/);
    await assert.rejects(socketSinkType.create({}, ctx), /address is required/);
    await assert.rejects(socketSinkType.create({ address: 'nohost' }, ctx), /invalid address/);
    await assert.rejects(socketSinkType.create({ address: '127.0.0.1:1', socket_type: 'sctp' }, ctx), /invalid socket_type/);
    await assert.rejects(socketSinkType.create({ address: '127.0.0.1:1', write_timeout: '10ms' }, ctx), /at least one second/);
  });
});

const noSyslog = rsyslogMissing();
describe('the syslog audit device (with a real rsyslogd)', { skip: noSyslog }, () => {
  it('sends each entry to the daemon with the facility and tag asked for', async () => {
    const daemon = await ScratchSyslog.start();
    try {
      const sink = await syslogSinkType.create({ address: daemon.socket, tag: 'coffer-test', facility: 'LOCAL3' }, ctx);
      const big = JSON.stringify({ data: 'x'.repeat(20_000) });
      await sink.write('{"type":"request"}');
      await sink.write(big);
      await waitFor('both messages', async () => daemon.messages().length >= 2);
      const [first, second] = daemon.messages();
      // <PRI> is facility * 8 + severity: LOCAL3 (19) and informational (6).
      assert.match(first!, new RegExp(`^<158>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d coffer-test\\[${process.pid}\\]: \\{"type":"request"\\}$`));
      assert.ok(second!.endsWith(big), 'a long entry arrives whole');
      await sink.close();
    } finally {
      await daemon.stop();
    }
  });

  it('follows the daemon across a restart', async () => {
    const socket = path.join(dir, 'restarted.sock');
    const daemon = await ScratchSyslog.start(socket);
    const sink = await syslogSinkType.create({ address: socket }, ctx);
    await daemon.stop();
    const again = await ScratchSyslog.start(socket);
    try {
      await sink.write('{"after":"restart"}');
      await waitFor('the message', async () => again.messages().length === 1);
      assert.match(again.messages()[0]!, /^<38>.* vault\[\d+\]: \{"after":"restart"\}$/, 'AUTH and "vault" by default');
      await sink.close();
    } finally {
      await again.stop();
    }
  });

  it('refuses a facility it does not know and a daemon that is not there', async () => {
    await assert.rejects(syslogSinkType.create({ facility: 'NOPE', address: '/nonexistent' }, ctx), /invalid facility/);
    await assert.rejects(syslogSinkType.create({ address: path.join(dir, 'no-daemon') }, ctx), /failed to connect to syslog at .*: ENOENT/);
  });
});
