import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { selfSignedCert } from '../http/tls-fixture.js';
import { BIN, freePort, startServerProcess, tempDir, waitFor } from './server-process.js';

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

/** Connect over TLS and answer what was negotiated (or why it failed), and the certificate's fingerprint. */
function handshake(port: number, opts: { minVersion?: 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string } = {}): Promise<{ ok: boolean; protocol: string; cipher: string; fingerprint: string; error: string }> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts });
    s.on('secureConnect', () => {
      resolve({ ok: true, protocol: s.getProtocol() ?? '', cipher: s.getCipher().standardName, fingerprint: s.getPeerCertificate().fingerprint256, error: '' });
      s.end();
    });
    s.on('error', (e) => resolve({ ok: false, protocol: '', cipher: '', fingerprint: '', error: e.message }));
  });
}

const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256;

describe('TLS versions, cipher suites and certificate reload', () => {
  it('keeps to tls_max_version and tls_cipher_suites', async () => {
    const cert = await selfSignedCert();
    const port = await freePort();
    const server = await startServerProcess(tempDir('coffer-tls-ciphers-'), undefined, {
      extraConfig: `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_cert_file = "${cert.certFile}"\n  tls_key_file = "${cert.keyFile}"\n  tls_max_version = "tls12"\n  tls_cipher_suites = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"\n}\n`,
    });
    try {
      const plain = await handshake(port);
      assert.equal(plain.protocol, 'TLSv1.2', 'TLS 1.3 is not offered above tls_max_version');
      assert.equal(plain.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
      assert.equal((await handshake(port, { minVersion: 'TLSv1.3' })).ok, false);
      assert.equal((await handshake(port, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).ok, false, 'a suite not in the list is refused');
      assert.equal((await handshake(port, { ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' })).cipher, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256');
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });

  it('refuses an unknown cipher suite and a maximum below the minimum at start, naming them', async () => {
    const cert = await selfSignedCert();
    for (const [lines, pattern] of [
      ['tls_cipher_suites = "TLS_ECDHE_RSA_WITH_RC4_128_SHA"', /unknown or unsupported cipher suite "TLS_ECDHE_RSA_WITH_RC4_128_SHA"/],
      ['tls_min_version = "tls13"\n  tls_max_version = "tls12"', /"tls_max_version" is below "tls_min_version"/],
      ['tls_max_version = "tls11"', /"tls_max_version" must be "tls12" or "tls13"/],
    ] as const) {
      const dir = tempDir('coffer-tls-bad-');
      const file = join(dir, 'coffer.hcl');
      writeFileSync(file, `storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:${await freePort()}"\n  tls_cert_file = "${cert.certFile}"\n  tls_key_file = "${cert.keyFile}"\n  ${lines}\n}\n`);
      const r = await coffer(['server', `-config=${file}`]);
      assert.equal(r.code, 1, lines);
      assert.match(r.err, pattern);
    }
  });

  it('reloads the certificate on SIGHUP without dropping an open connection, and keeps it when the new files are bad', async () => {
    const first = await selfSignedCert();
    const second = await selfSignedCert();
    const dir = tempDir('coffer-tls-reload-');
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const port = await freePort();
    const server = await startServerProcess(dir, undefined, {
      extraConfig: `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_cert_file = "${certFile}"\n  tls_key_file = "${keyFile}"\n}\n`,
    });
    try {
      assert.equal((await handshake(port)).fingerprint, fingerprintOf(first.certFile));
      // One keep-alive connection open across the reload, asked once before and once after.
      const open = connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      await once(open, 'secureConnect');
      let received = '';
      open.on('data', (d: Buffer) => (received += d.toString()));
      const ask = async (n: number) => {
        open.write('GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n');
        await waitFor(`answer ${n} on the open connection`, async () => (received.match(/HTTP\/1\.1 200/g) ?? []).length >= n);
      };
      await ask(1);
      copyFileSync(second.certFile, certFile);
      copyFileSync(second.keyFile, keyFile);
      server.proc.kill('SIGHUP');
      await waitFor('new connections to get the new certificate', async () => (await handshake(port)).fingerprint === fingerprintOf(second.certFile));
      await ask(2);
      assert.equal(open.destroyed, false, 'the open connection was not dropped');
      open.end();

      writeFileSync(keyFile, 'not a key');
      server.proc.kill('SIGHUP');
      await waitFor('the failed reload to be logged', async () => /reloading the listener's TLS certificate failed/.test(server.logs()));
      assert.equal((await handshake(port)).fingerprint, fingerprintOf(second.certFile), 'it keeps serving the last good certificate');
    } finally {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
  });
});
