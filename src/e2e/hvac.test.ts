import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TestCa } from '../auth/cert/testing.js';
import { FakeOidcProvider } from '../auth/jwt/testing.js';
import { FakeKubernetes } from '../auth/kubernetes/testing.js';
import { selfSignedCert } from '../http/tls-fixture.js';
import { startTestServer, type TestServer } from '../http/testing.js';
import { tempDir } from './server-process.js';

/**
 * hvac, the Python client most Vault users have, drives coffer unchanged: Debian's python3-hvac
 * (0.11.2), installed by .ci/run. Without it the test skips when run by hand and fails in CI.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../src/e2e/hvac_client.py', import.meta.url));

function hvacInstalled(): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(PYTHON)) return resolve(false);
    execFile(PYTHON, ['-c', 'import hvac'], (e) => resolve(e === null));
  });
}

const available = await hvacInstalled();
const missing = 'python3-hvac is not installed (apt-get install python3-hvac)';
if (!available && process.env['CI'] === 'true') throw new Error(`${missing}: required in CI`);

describe('hvac (python3-hvac 0.11.2) against coffer', { skip: available ? false : missing }, () => {
  let s: TestServer;
  // Kubernetes cannot run here: the article's Kubernetes login goes to a local HTTPS stand-in
  // that answers TokenReview requests (authentication.k8s.io/v1) for JWTs the test signs.
  const k8s = new FakeKubernetes();
  // Nor can an identity provider: JWT and OIDC logins go to a local OpenID provider stand-in.
  const idp = new FakeOidcProvider();
  let k8sEnv: Record<string, string> = {};
  // Certificate logins need TLS: a second server, whose listener asks for client certificates.
  let tlsServer: TestServer;
  before(async () => {
    s = await startTestServer({ unsealed: true });
    await k8s.start();
    k8s.accounts.set('production/my-app', 'uid-my-app');
    k8s.accounts.set('kube-system/reviewer', 'uid-reviewer');
    k8sEnv = {
      COFFER_K8S_HOST: k8s.host,
      COFFER_K8S_CA: k8s.caPem,
      COFFER_K8S_REVIEWER_JWT: await k8s.token({ namespace: 'kube-system', name: 'reviewer' }),
      COFFER_K8S_JWT: await k8s.token({ namespace: 'production', name: 'my-app' }),
    };
    await idp.start();
    const caFile = join(tempDir('coffer-hvac-'), 'idp-ca.pem');
    writeFileSync(caFile, idp.caPem);
    k8sEnv = {
      ...k8sEnv,
      COFFER_IDP_ISSUER: idp.issuer,
      COFFER_IDP_JWKS: idp.jwksUrl,
      COFFER_IDP_CA: idp.caPem,
      COFFER_IDP_CA_FILE: caFile,
      COFFER_IDP_CLIENT_ID: idp.clientId,
      COFFER_IDP_CLIENT_SECRET: idp.clientSecret,
      COFFER_IDP_JWT: await idp.sign({ sub: 'job-7', aud: 'coffer', project: 'web', ref: 'main' }),
      COFFER_IDP_OTHER_AUD_JWT: await idp.sign({ sub: 'job-7', aud: 'elsewhere', project: 'web' }),
    };
    const serverCert = await selfSignedCert();
    tlsServer = await startTestServer({ unsealed: true, listener: { tls: { ...serverCert, minVersion: 'TLSv1.2', clientCerts: 'request', clientCaFile: '' } } });
    const ca = await TestCa.root();
    const client = await ca.client({ subject: 'CN=web.example.com', dns: ['web.example.com'] });
    const dir = tempDir('coffer-hvac-cert-');
    writeFileSync(join(dir, 'ca.pem'), ca.pem);
    writeFileSync(join(dir, 'client.pem'), client.certPem);
    writeFileSync(join(dir, 'client-key.pem'), client.keyPem);
    k8sEnv = {
      ...k8sEnv,
      COFFER_TLS_URL: `https://127.0.0.1:${tlsServer.port}`,
      COFFER_TLS_ROOT_TOKEN: tlsServer.rootToken,
      COFFER_TLS_SERVER_CA: serverCert.certFile,
      COFFER_CLIENT_CA: join(dir, 'ca.pem'),
      COFFER_CLIENT_CERT: join(dir, 'client.pem'),
      COFFER_CLIENT_KEY: join(dir, 'client-key.pem'),
    };
  });
  after(async () => {
    await s.close();
    await k8s.stop();
    await idp.stop();
    await tlsServer.close();
  });

  it('mounts, reads, writes, lists, versions and confines secrets as hvac users do', async () => {
    const run = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(PYTHON, [SCRIPT], { env: { PATH: process.env['PATH'] ?? '', COFFER_URL: s.url, COFFER_ROOT_TOKEN: s.rootToken, COFFER_UNSEAL_KEY: s.unsealKey, COFFER_TMP: tempDir('coffer-hvac-audit-'), ...k8sEnv }, timeout: 60_000 }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      ),
    );
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /\d+ checks passed/);
  });
});
