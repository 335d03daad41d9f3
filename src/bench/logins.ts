import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { api, startServerProcess, tempDir, unsealWith } from '../e2e/server-process.js';
import { DURATION, autocannonLoad, median, startBare, stop, wrkLoad } from './common.js';

/**
 * The login figures of `npm run bench`: AppRole logins per second at 32 connections beside the
 * bare node:http server in the same rounds (each login mints and durably stores a token on
 * SQLite), and the p99 of a KV read at 8 connections alone and while 32 connections send
 * userpass logins (bcrypt, cost 10) as fast as they are answered; JWT logins per second at 32
 * connections (RS256, the JWKS fetched once from a server in this process) beside bare node:http.
 * The server runs on CPU 0.
 */
const LOGIN_CONNECTIONS = 32;
const ROUNDS = Number(process.env['BENCH_LOGIN_ROUNDS'] ?? 3);

export async function loginBench(): Promise<string[]> {
  const bare = await startBare();
  const server = await startServerProcess(tempDir('coffer-bench-logins-'), undefined, { pin: 0 });
  try {
    const init = await api(server.url, 'sys/init', { method: 'PUT', body: { secret_shares: 1, secret_threshold: 1 } });
    const root = String(init.body!['root_token']);
    await unsealWith(server.url, init.body!['keys'] as string[]);
    const as = (path: string, body: Record<string, unknown>) => api(server.url, path, { body, token: root });
    await as('sys/mounts/secret', { type: 'kv-v2' });
    await as('secret/data/app', { data: { password: 'hunter2' } });
    await as('sys/policy/app', { policy: 'path "secret/data/app" { capabilities = ["read"] }' });
    await as('sys/auth/approle', { type: 'approle' });
    await as('auth/approle/role/bench', { token_policies: 'app', token_ttl: '10m' });
    const roleId = ((await api(server.url, 'auth/approle/role/bench/role-id', { token: root })).body!['data'] as { role_id: string }).role_id;
    const secretId = ((await as('auth/approle/role/bench/secret-id', {})).body!['data'] as { secret_id: string }).secret_id;
    await as('sys/auth/userpass', { type: 'userpass' });
    await as('auth/userpass/users/bench', { password: 'bench-password', token_policies: 'app' });
    const token = ((await as('auth/token/create', { policies: ['app'] })).body!['auth'] as { client_token: string }).client_token;

    const approle = {
      url: `${server.url}/v1/auth/approle/login`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role_id: roleId, secret_id: secretId }),
      connections: LOGIN_CONNECTIONS,
    };
    await autocannonLoad(approle.url, { ...approle, duration: 3 }); // warm-up
    const pairs: { bare: number; coffer: number; p99: number; errors: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await autocannonLoad(bare.url, { connections: LOGIN_CONNECTIONS });
      const c = await autocannonLoad(approle.url, approle);
      pairs.push({ bare: b.rps, coffer: c.rps, p99: c.p99, errors: c.errors });
    }

    // A KV read's p99 alone, then during a burst of userpass logins (alternating, twice each),
    // measured with wrk where it is installed: the read's p99 is below a millisecond, which
    // autocannon's whole milliseconds cannot tell apart.
    const read = { url: `${server.url}/v1/secret/data/app`, headers: { 'x-vault-token': token }, connections: 8 };
    const readLoad = async (): Promise<{ p99: number; tool: string }> => {
      const w = await wrkLoad(read.url, read.headers, DURATION, read.connections);
      return w ? { p99: w.p99, tool: 'wrk' } : { p99: (await autocannonLoad(read.url, read)).p99, tool: 'autocannon' };
    };
    const logins = { url: `${server.url}/v1/auth/userpass/login/bench`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'bench-password' }), connections: LOGIN_CONNECTIONS };
    const quiet: number[] = [];
    const busy: number[] = [];
    let loginRate = 0;
    let readTool = '';
    for (let r = 0; r < 2; r++) {
      const alone = await readLoad();
      quiet.push(alone.p99);
      readTool = alone.tool;
      const [during, burst] = await Promise.all([readLoad(), autocannon({ ...logins, duration: DURATION })]);
      busy.push(during.p99);
      loginRate = burst.requests.average;
    }
    const jwtPairs = await jwtRounds(server.url, root, bare.url);
    const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
    const ms = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
    return [
      '',
      `AppRole logins, ${LOGIN_CONNECTIONS} connections, ${DURATION}s per run, ${ROUNDS} rounds beside bare node:http (req/s):`,
      ...pairs.map((p, i) => `  round ${i + 1}: bare ${fmt(p.bare)}/s, coffer ${fmt(p.coffer)} logins/s, p99 ${p.p99} ms, ${p.errors} errors`),
      `  median ${fmt(median(pairs.map((p) => p.coffer)))} logins/s (goal: at least 3,000/s on one core)`,
      `JWT logins (RS256, cached JWKS), ${LOGIN_CONNECTIONS} connections, ${DURATION}s per run, ${ROUNDS} rounds beside bare node:http (req/s):`,
      ...jwtPairs.map((p, i) => `  round ${i + 1}: bare ${fmt(p.bare)}/s, coffer ${fmt(p.coffer)} logins/s, p99 ${p.p99} ms, ${p.errors} errors`),
      `  median ${fmt(median(jwtPairs.map((p) => p.coffer)))} logins/s (goal: at least 2,000/s on one core)`,
      `KV read p99 at 8 connections (${readTool}): ${ms(median(quiet))} ms alone, ${ms(median(busy))} ms during a userpass login burst at ${LOGIN_CONNECTIONS} connections (${fmt(loginRate)} logins/s); ratio ${(median(busy) / median(quiet)).toFixed(2)} (goal: at most 3)`,
    ];
  } finally {
    bare.proc.kill();
    await stop(server);
  }
}

/** A JWT mount whose keys come from a JWKS served here, and rounds of logins with one signed JWT. */
async function jwtRounds(serverUrl: string, root: string, bareUrl: string): Promise<{ bare: number; coffer: number; p99: number; errors: number }[]> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' }] });
  const jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  try {
    const as = (path: string, body: Record<string, unknown>) => api(serverUrl, path, { body, token: root });
    await as('sys/auth/jwt', { type: 'jwt' });
    await as('auth/jwt/config', { jwks_url: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks` });
    await as('auth/jwt/role/bench', { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer', token_policies: 'app', token_ttl: '10m' });
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ sub: 'bench-job', aud: 'coffer', iat: now, exp: now + 3600 }).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).sign(privateKey);
    const login = {
      url: `${serverUrl}/v1/auth/jwt/login`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'bench', jwt }),
      connections: LOGIN_CONNECTIONS,
    };
    await autocannonLoad(login.url, { ...login, duration: 3 }); // warm-up
    const pairs: { bare: number; coffer: number; p99: number; errors: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await autocannonLoad(bareUrl, { connections: LOGIN_CONNECTIONS });
      const c = await autocannonLoad(login.url, login);
      pairs.push({ bare: b.rps, coffer: c.rps, p99: c.p99, errors: c.errors });
    }
    return pairs;
  } finally {
    jwksServer.close();
  }
}
