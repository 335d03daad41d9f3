import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { selfSignedCert } from '../http/tls-fixture.js';
import { BIN, freePort, startServerProcess, tempDir } from './server-process.js';

function coffer(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: tempDir('coffer-tls-home-') }, timeout: 20_000 }, (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe('TLS listener from the configuration file', () => {
  it('serves TLS 1.3 beside a plain listener, verified with -ca-cert, refused to TLS 1.2 clients', async () => {
    const dir = tempDir('coffer-tls-');
    const cert = await selfSignedCert();
    const tlsPort = await freePort();
    const server = await startServerProcess(dir, undefined, {
      extraConfig: `listener "tcp" {\n  address = "127.0.0.1:${tlsPort}"\n  tls_cert_file = "${cert.certFile}"\n  tls_key_file = "${cert.keyFile}"\n  tls_min_version = "tls13"\n}\n`,
    });
    try {
      const https = `https://127.0.0.1:${tlsPort}`;
      const verified = await coffer(['status', `-address=${https}`, `-ca-cert=${cert.certFile}`]);
      assert.equal(verified.code, 2, verified.err); // reached: uninitialised, so sealed
      assert.match(verified.out, /Initialized\s+false/);
      assert.equal((await coffer(['status', `-address=${https}`, '-tls-skip-verify'])).code, 2);
      const unverified = await coffer(['status', `-address=${https}`]);
      assert.equal(unverified.code, 1);
      assert.match(unverified.err, /certificate/i);
      const tls12 = await new Promise<string>((resolve) => {
        const s = connect({ port: tlsPort, host: '127.0.0.1', maxVersion: 'TLSv1.2', rejectUnauthorized: false });
        s.on('secureConnect', () => resolve(`connected with ${s.getProtocol()}`));
        s.on('error', (e) => resolve(`refused: ${e.message}`));
      });
      assert.match(tls12, /^refused/);
      assert.equal((await coffer(['status', `-address=${server.url}`])).code, 2);
      // The CLI's default scheme is https://: pointed at the plain listener it says so at once.
      const mismatched = await coffer(['status', `-address=${server.url.replace('http://', 'https://')}`]);
      assert.equal(mismatched.code, 1);
      assert.match(mismatched.err, /server gave HTTP response to HTTPS client/);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });
});
