import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../../core/testing.js';
import { selfSignedCert } from '../../http/tls-fixture.js';
import { startTestServer, type TestServer } from '../../http/testing.js';
import type { AuthResult, ConnectionInfo } from '../../logical/index.js';
import { tempDir } from '../../e2e/server-process.js';
import { TestCa, type Issued } from './testing.js';

const over = (...chain: Issued[]): ConnectionInfo => ({ remoteAddress: '10.1.2.3', peerCertificates: chain.map((c) => c.der) });

describe('cert auth method', () => {
  let root: TestCa;
  let intermediate: TestCa;
  let other: TestCa;
  const cores: TestCore[] = [];
  before(async () => {
    root = await TestCa.root();
    intermediate = await root.intermediate();
    other = await TestCa.root('CN=Someone Else CA');
  });
  after(async () => {
    for (const t of cores) await t.core.seal();
  });

  async function setup(): Promise<TestCore> {
    const t = await newTestCore({ clock: { now: () => Date.now() } });
    cores.push(t);
    await t.request('update', 'sys/auth/cert', { type: 'cert' });
    await t.request('update', 'sys/policy/web', { policy: 'path "secret/data/web/*" {\n  capabilities = ["read"]\n}' });
    await t.request('update', 'secret/data/web/tls', { data: { v: 'from-coffer' } });
    await t.request('update', 'auth/cert/certs/web', { certificate: root.pem, display_name: 'web', allowed_common_names: '*.web.example.com', allowed_organizational_units: 'platform', token_policies: 'web', token_ttl: '1h' });
    return t;
  }

  const login = async (t: TestCore, connection: ConnectionInfo, data: Record<string, unknown> = {}): Promise<AuthResult> => {
    const auth = (await t.core.handle({ operation: 'update', path: 'auth/cert/login', data, token: '', connection })).response?.auth;
    assert.ok(auth);
    return auth;
  };

  it('logs in a client whose certificate chains to a trusted CA through an intermediate, and reads its secret', async () => {
    const t = await setup();
    const leaf = await intermediate.client({ subject: 'CN=api.web.example.com, OU=platform', dns: ['api.web.example.com'] });
    const auth = await login(t, over(leaf, intermediate.issued), { name: 'web' });
    assert.deepEqual(auth.tokenPolicies, ['default', 'web']);
    assert.equal(auth.leaseDuration, 3600);
    assert.equal(auth.metadata?.['cert_name'], 'web');
    assert.equal(auth.metadata?.['common_name'], 'api.web.example.com');
    assert.match(auth.metadata?.['serial_number'] ?? '', /^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
    const read = await t.request('read', 'secret/data/web/tls', {}, auth.clientToken);
    assert.deepEqual((read?.data as { data: unknown }).data, { v: 'from-coffer' });
    // Without a name every entry is tried.
    await login(t, over(leaf, intermediate.issued));
  });

  it('holds each CA to its path length: an intermediate under a pathLen 0 intermediate logs nobody in', async () => {
    const t = await setup();
    const subject = 'CN=api.web.example.com, OU=platform';
    const tooDeep = await intermediate.intermediate('CN=Too Deep CA');
    await assert.rejects(login(t, over(await tooDeep.client({ subject }), tooDeep.issued, intermediate.issued)), { message: 'invalid certificate or no client certificate supplied' });
    // Trusting the pathLen 0 intermediate itself does not help: the one below it is still one too many.
    await t.request('update', 'auth/cert/certs/mid', { certificate: intermediate.pem });
    await assert.rejects(login(t, over(await tooDeep.client({ subject }), tooDeep.issued), { name: 'mid' }), { message: 'invalid certificate or no client certificate supplied' });
    // Where the upper intermediate allows one more, the same shape of chain logs in.
    const upper = await root.intermediate('CN=Upper CA', 1);
    const lower = await upper.intermediate('CN=Lower CA');
    await login(t, over(await lower.client({ subject }), lower.issued, upper.issued), { name: 'web' });
  });

  it('never logs in a certificate from another CA, an expired one, one without clientAuth, one outside the names, or none', async () => {
    const t = await setup();
    const refused = (connection: ConnectionInfo, message: string) => assert.rejects(login(t, connection), { code: 'invalid_request', message });
    await refused(over(await other.client({ subject: 'CN=api.web.example.com, OU=platform' })), 'invalid certificate or no client certificate supplied');
    await refused(over(await root.client({ subject: 'CN=api.web.example.com, OU=platform', validFor: -60_000 })), 'invalid certificate or no client certificate supplied');
    await refused(over(await root.client({ subject: 'CN=api.web.example.com, OU=platform', eku: ['1.3.6.1.5.5.7.3.1'] })), 'invalid certificate or no client certificate supplied');
    await refused(over(await root.client({ subject: 'CN=api.evil.example.com, OU=platform' })), 'no chain matching all constraints could be found for this login certificate');
    await refused(over(await root.client({ subject: 'CN=api.web.example.com, OU=finance' })), 'no chain matching all constraints could be found for this login certificate');
    // An intermediate the client leaves out cannot be found: the chain does not lead to the root.
    await refused(over(await intermediate.client({ subject: 'CN=api.web.example.com, OU=platform' })), 'invalid certificate or no client certificate supplied');
    await refused(over(), 'client certificate must be supplied');
    // A CA certificate trusted as a leaf does not make any certificate it did not sign a login.
    const selfish = await other.client({ subject: 'CN=x.web.example.com, OU=platform' });
    await t.request('update', 'auth/cert/certs/pinned', { certificate: selfish.certPem });
    await login(t, over(selfish), { name: 'pinned' });
  });

  it('matches SANs and required extensions, and binds renewal to the certificate that logged in', async () => {
    const t = await setup();
    await t.request('update', 'auth/cert/certs/svc', {
      certificate: root.pem,
      allowed_dns_sans: 'svc-*.internal',
      allowed_email_sans: '*@example.com',
      allowed_uri_sans: 'spiffe://example.com/*',
      required_extensions: '1.2.3.4.5:team-*',
      allowed_metadata_extensions: '1.2.3.4.5',
      token_policies: 'web',
    });
    const good = await root.client({ subject: 'CN=svc', dns: ['svc-a.internal'], emails: ['svc@example.com'], uris: ['spiffe://example.com/svc'], extensions: { '1.2.3.4.5': 'team-blue' } });
    const auth = await login(t, over(good), { name: 'svc' });
    assert.equal(auth.metadata?.['1-2-3-4-5'], 'team-blue');
    const wrongExt = await root.client({ subject: 'CN=svc', dns: ['svc-a.internal'], emails: ['svc@example.com'], uris: ['spiffe://example.com/svc'], extensions: { '1.2.3.4.5': 'red' } });
    await assert.rejects(login(t, over(wrongExt), { name: 'svc' }), { message: /no chain matching/ });
    const renew = (connection: ConnectionInfo) => t.core.handle({ operation: 'update', path: 'auth/token/renew-self', data: {}, token: auth.clientToken, connection });
    assert.ok((await renew(over(good))).response?.auth);
    await assert.rejects(renew(over(wrongExt)), { code: 'invalid_request' });
    await assert.rejects(renew(over()), { message: 'client certificate must be supplied' });
    await t.request('update', 'auth/cert/config', { disable_binding: true });
    assert.ok((await renew(over())).response?.auth);
  });

  it('validates entries at the edge and lists them', async () => {
    const t = await setup();
    await assert.rejects(t.request('update', 'auth/cert/certs/bad', { certificate: 'junk' }), { message: 'field "certificate" holds no PEM-encoded certificate' });
    await assert.rejects(t.request('update', 'auth/cert/certs/bad', {}), { message: 'must provide a certificate' });
    await assert.rejects(t.request('update', 'auth/cert/certs/bad', { certificate: root.pem, ocsp_enabled: true }), { message: /not supported yet/ });
    assert.deepEqual((await t.request('list', 'auth/cert/certs'))?.data?.['keys'], ['web']);
    const read = await t.request('read', 'auth/cert/certs/web');
    assert.equal(read?.data?.['certificate'], root.pem);
    assert.deepEqual(read?.data?.['allowed_common_names'], ['*.web.example.com']);
  });

  describe('over a TLS listener', () => {
    let server: TestServer;
    let leaf: Issued;
    before(async () => {
      const cert = await selfSignedCert();
      server = await startTestServer({ unsealed: true, listener: { tls: { ...cert, minVersion: 'TLSv1.2', clientCerts: 'request', clientCaFile: '' } } });
      await server.core.handle({ operation: 'update', path: 'sys/auth/cert', data: { type: 'cert' }, token: server.rootToken });
      await server.core.handle({ operation: 'update', path: 'auth/cert/certs/web', data: { certificate: root.pem, token_policies: 'default' }, token: server.rootToken });
      leaf = await intermediate.client({ subject: 'CN=api.web.example.com' });
      serverCa = readFileSync(cert.certFile, 'utf8');
    });
    after(() => server.close());
    let serverCa = '';

    const post = (path: string, body: unknown, client?: Issued): Promise<{ status: number; body: Record<string, unknown> }> =>
      new Promise((resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = request(
          { host: '127.0.0.1', port: server.port, path: `/v1/${path}`, method: 'POST', ca: serverCa, ...(client ? { cert: `${client.certPem}\n${intermediate.pem}\n`, key: client.keyPem } : {}), headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });

    it('logs in with the certificate presented in the TLS handshake ({name}, as cert-manager and ESO send it), and serves clients without one', async () => {
      const ok = await post('auth/cert/login', { name: 'web' }, leaf);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.match(String((ok.body['auth'] as Record<string, unknown>)['client_token']), /^hvs\./);
      const none = await post('auth/cert/login', { name: 'web' });
      assert.equal(none.status, 400);
      assert.deepEqual(none.body['errors'], ['client certificate must be supplied']);
    });

    it('with tls_require_and_verify_client_cert, refuses the handshake of a client without a certificate its CA file trusts', async () => {
      const cert = await selfSignedCert();
      const caFile = join(tempDir('coffer-client-ca-'), 'ca.pem');
      writeFileSync(caFile, root.pem);
      const strict = await startTestServer({ unsealed: true, listener: { tls: { ...cert, minVersion: 'TLSv1.2', clientCerts: 'require', clientCaFile: caFile } } });
      try {
        const health = (client?: Issued) =>
          new Promise<number>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port: strict.port, path: '/v1/sys/health', ca: readFileSync(cert.certFile), ...(client ? { cert: `${client.certPem}\n${intermediate.pem}\n`, key: client.keyPem } : {}) }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.on('error', reject);
            req.end();
          });
        assert.equal(await health(leaf), 200);
        await assert.rejects(health(), 'no certificate, no connection');
        await assert.rejects(health(await other.client({ subject: 'CN=stranger' })), 'a certificate from another CA, no connection');
      } finally {
        await strict.close();
      }
    });
  });
});
