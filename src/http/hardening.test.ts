import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { selfSignedCert } from './tls-fixture.js';
import { rawExchange, startTestServer, type TestServer } from './testing.js';

/** Resolve when the socket closes; reject if it is still open at the deadline. */
function closedWithin(socket: ReturnType<typeof connect>, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => {}); // a reset is as good a close as a FIN here
    const timer = setTimeout(() => reject(new Error(`connection still open after ${ms}ms`)), ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

describe('HTTP hardening', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      unsealed: true,
      listener: { maxRequestSize: 4096, headerTimeoutMs: 300, readTimeoutMs: 600 },
      jsonLimits: { maxDepth: 10, maxStringLength: 100, maxObjectEntries: 20, maxArrayElements: 20 },
    });
  });
  after(() => s.close());

  it('answers 413 for a chunked body over the limit, with no Content-Length', async () => {
    const chunk = 'x'.repeat(1000);
    const body = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const [res] = await rawExchange(s.port, `POST /v1/secret/data/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    assert.equal(res?.status, 413);
    assert.deepEqual(JSON.parse(res!.body), { errors: ['http: request body too large'] });
  });

  it('answers 413 from a declared Content-Length without reading the body', async () => {
    const [res] = await rawExchange(s.port, 'POST /v1/secret/data/big HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n');
    assert.equal(res?.status, 413);
  });

  it('answers JSON depth, string length and entry-count violations with 400 before authentication', async () => {
    const cases = [
      '{"a":' + '['.repeat(20) + ']'.repeat(20) + '}',
      JSON.stringify({ a: 'x'.repeat(200) }),
      JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))),
      JSON.stringify({ a: Array.from({ length: 30 }, (_, i) => i) }),
    ];
    for (const body of cases) {
      const res = await s.fetch('/v1/secret/data/x', { method: 'POST', body, token: '' });
      assert.equal(res.status, 400, body.slice(0, 40));
    }
  });

  it('closes a connection whose headers trickle in too slowly (slowloris)', async () => {
    const socket = connect(s.port, '127.0.0.1');
    socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-A: b\r\n'), 100);
    try {
      const got = await closedWithin(socket, 3000);
      assert.match(got, /^HTTP\/1\.1 408|^$/);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });

  it('closes a connection whose body never finishes arriving', async () => {
    const socket = connect(s.port, '127.0.0.1');
    socket.write('POST /v1/secret/data/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"da');
    try {
      await closedWithin(socket, 4000);
    } finally {
      socket.destroy();
    }
  });

  it('refuses ".", "..", empty segments, bad escapes and control characters with 400', async () => {
    for (const path of ['/v1/secret/data/../x', '/v1/secret/./data/x', '/v1/secret/data/a%2F..%2Fb', '/v1/secret//data/x', '/v1/secret/data/%00', '/v1/secret/data/a%07b', '/v1/secret/data/%zz', '/v1/secret/data/%2e%2e/x']) {
      const [res] = await rawExchange(s.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${s.rootToken}\r\nConnection: close\r\n\r\n`);
      assert.equal(res?.status, 400, path);
    }
  });

  it('decodes percent-encoding exactly once', async () => {
    await s.fetch('/v1/secret/data/x%2541', { body: { data: { v: 'once' } } });
    const literal = await s.fetch('/v1/secret/data/x%2541');
    assert.equal(literal.status, 200);
    assert.equal((await s.fetch('/v1/secret/data/xA')).status, 404);
    assert.equal((await s.fetch('/v1/secret/data/x%41')).status, 404);
  });

  it('lets the ACL see exactly the path the handler serves', async () => {
    await s.fetch('/v1/sys/policy/pub', { body: { policy: 'path "secret/data/pub/*" { capabilities = ["read", "create", "update"] }' } });
    await s.fetch('/v1/secret/data/priv', { body: { data: { v: 'hidden' } } });
    const token = ((await s.fetch('/v1/auth/token/create', { body: { policies: ['pub'] } })).body!['auth'] as { client_token: string }).client_token;
    assert.equal((await s.fetch('/v1/secret/data/pub/ok', { body: { data: { v: 1 } }, token })).status, 200);
    assert.equal((await s.fetch('/v1/secret/data/pub%2Fok', { token })).status, 200);
    for (const path of ['/v1/secret/data/priv', '/v1/secret/data/pub/%2E%2E/priv', '/v1/secret/data/pub/../priv']) {
      const [res] = await rawExchange(s.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${token}\r\nConnection: close\r\n\r\n`);
      assert.ok(res?.status === 403 || res?.status === 400, `${path} → ${res?.status}`);
      assert.ok(!res!.body.includes('hidden'));
    }
  });
});

describe('Hostile payloads', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer({ unsealed: true })));
  after(() => s.close());

  it('keeps "__proto__" keys as plain data in writes, patches and query strings', async () => {
    await s.fetch('/v1/secret/data/proto', { body: { data: { a: 1 } } });
    const patched = await s.fetch('/v1/secret/data/proto', {
      method: 'PATCH',
      body: '{"data": {"__proto__": {"polluted": true}, "b": 2}}',
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(patched.status, 200);
    const read = await s.fetch('/v1/secret/data/proto?__proto__=x&__proto__=y');
    const data = (read.body!['data'] as { data: Record<string, unknown> }).data;
    assert.equal(Object.hasOwn(data, '__proto__'), true);
    assert.equal(data['b'], 2);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('answers every pipelined request once a slow reader starts reading', async () => {
    const n = 8000; // ~3 MB of replies: past the 1 MiB high-water mark while the client is not reading
    const res = await rawExchange(s.port, 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n), { expect: n, timeoutMs: 20_000, readDelayMs: 500 });
    assert.equal(res.length, n);
    assert.ok(res.every((r) => r.status === 200));
  });

  it('refuses non-numeric secret_shares', async () => {
    const fresh = await startTestServer();
    try {
      for (const body of [{ secret_shares: true, secret_threshold: 1 }, { secret_shares: '5x', secret_threshold: 3 }, {}]) {
        assert.equal((await fresh.fetch('/v1/sys/init', { method: 'PUT', body, token: '' })).status, 400);
      }
    } finally {
      await fresh.close();
    }
  });
});

describe('The wrong protocol on a listener', () => {
  it('answers a TLS ClientHello on a plain listener with 400 at once and closes', async () => {
    const s = await startTestServer({ unsealed: true });
    try {
      // The first bytes of a TLS record: handshake (0x16), version 3.1, then more to come.
      const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
      const socket = connect({ port: s.port, host: '127.0.0.1' });
      socket.write(hello);
      const received = await closedWithin(socket, 3000); // the header timeout is 10 s
      assert.match(received, /^HTTP\/1\.1 400 /);
      assert.match(received, /Client sent an HTTPS request to an HTTP server/);
    } finally {
      await s.close();
    }
  });

  it('answers plain HTTP on a TLS listener in plain words', async () => {
    const cert = await selfSignedCert();
    const s = await startTestServer({ unsealed: true, listener: { tls: { ...cert, minVersion: 'TLSv1.2', clientCerts: 'request', clientCaFile: '' } } });
    try {
      const socket = connect({ port: s.port, host: '127.0.0.1' });
      socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n');
      const received = await closedWithin(socket, 3000);
      assert.equal(received, 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
      const [viaTls] = await rawExchange(s.port, 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { tls: true });
      assert.equal(viaTls?.status, 200, 'TLS clients are still served');
    } finally {
      await s.close();
    }
  });
});

describe('One 403 for every bad token', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer({ unsealed: true })));
  after(() => s.close());

  it('answers missing, invalid, expired, revoked and accessor tokens identically on real and unknown paths', async () => {
    const created = (await s.fetch('/v1/auth/token/create', { body: { ttl: '1s' } })).body!['auth'] as { client_token: string; accessor: string };
    const revoked = ((await s.fetch('/v1/auth/token/create', { body: {} })).body!['auth'] as { client_token: string }).client_token;
    await s.fetch('/v1/auth/token/revoke', { body: { token: revoked } });
    const deadline = Date.now() + 5000;
    while ((await s.fetch('/v1/auth/token/lookup-self', { token: created.client_token })).status === 200) {
      assert.ok(Date.now() < deadline, 'token did not expire');
      await new Promise((r) => setTimeout(r, 100));
    }
    const tokens = ['', 'hvs.nope', 'garbage token', created.client_token, revoked, created.accessor];
    for (const path of ['/v1/secret/data/app', '/v1/no/such/mount', '/v1/sys/mounts', '/v1/auth/token/lookup-self']) {
      for (const token of tokens) {
        const res = await s.fetch(path, { token });
        assert.equal(res.status, 403, `${path} with ${token.slice(0, 8)}`);
        assert.deepEqual(res.body, { errors: ['permission denied'] });
      }
    }
  });

  it('accepts Authorization: Bearer as the token', async () => {
    const res = await s.fetch('/v1/auth/token/lookup-self', { token: '', headers: { Authorization: `Bearer ${s.rootToken}` } });
    assert.equal(res.status, 200);
  });

  it('uses the first of two X-Vault-Token headers, as Go\'s Header.Get does', async () => {
    const ask = (first: string, second: string) =>
      rawExchange(s.port, `GET /v1/auth/token/lookup-self HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${first}\r\nX-Vault-Token: ${second}\r\nConnection: close\r\n\r\n`);
    const [good] = await ask(s.rootToken, 'hvs.bogus');
    assert.equal(good?.status, 200);
    assert.equal((JSON.parse(good!.body) as { data: { id: string } }).data.id, s.rootToken, 'the first token is the one answered for');
    const [bad] = await ask('hvs.bogus', s.rootToken);
    assert.equal(bad?.status, 403);
  });

  it('answers a lookup of a token that is not live with 403 "bad token", as Vault does', async () => {
    const revoked = ((await s.fetch('/v1/auth/token/create', { body: {} })).body!['auth'] as { client_token: string }).client_token;
    await s.fetch('/v1/auth/token/revoke', { body: { token: revoked } });
    for (const token of ['hvs.unknown', revoked]) {
      assert.deepEqual(await s.fetch('/v1/auth/token/lookup', { body: { token } }), { status: 403, body: { errors: ['bad token'] } });
    }
  });
});

describe('Field errors never echo the value sent', () => {
  let s: TestServer;
  const logged: string[] = [];
  before(async () => {
    const record = (msg: string, f?: Record<string, unknown>) => void logged.push(`${msg} ${JSON.stringify(f ?? {})}`);
    s = await startTestServer({ unsealed: true, logger: { debug: record, info: record, warn: record, error: record } });
    await s.fetch('/v1/secret/data/k', { body: { data: { v: 1 } } });
  });
  after(() => s.close());

  it('answers 400 naming the field, for a secret pasted into a typed field', async () => {
    const secret = 'hunter2-Pa55w0rd-9f8e7d';
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['POST', '/v1/auth/token/create', { ttl: secret }, 'ttl'],
      ['POST', '/v1/auth/token/create', { explicit_max_ttl: secret }, 'explicit_max_ttl'],
      ['POST', '/v1/auth/token/create', { num_uses: secret }, 'num_uses'],
      ['POST', '/v1/auth/token/create', { period: secret }, 'period'],
      ['POST', '/v1/auth/token/create', { renewable: secret }, 'renewable'],
      ['POST', '/v1/auth/token/create', { meta: { k: { nested: secret } } }, 'meta'],
      ['POST', '/v1/auth/token/create', { policies: { p: secret } }, 'policies'],
      ['POST', '/v1/auth/token/roles/r', { token_ttl: secret }, 'token_ttl'],
      ['POST', '/v1/sys/mounts/m', { type: 'kv', config: { default_lease_ttl: secret } }, 'default_lease_ttl'],
      ['POST', '/v1/sys/mounts/secret/tune', { max_lease_ttl: secret }, 'max_lease_ttl'],
      ['POST', '/v1/secret/config', { max_versions: secret }, 'max_versions'],
      ['POST', '/v1/secret/config', { delete_version_after: secret }, 'delete_version_after'],
      ['POST', '/v1/secret/metadata/k', { cas_required: secret }, 'cas_required'],
      ['POST', '/v1/secret/delete/k', { versions: [secret] }, 'versions'],
      ['POST', '/v1/auth/token/renew-self', { increment: secret }, 'increment'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await s.fetch(url, { method, body });
      assert.equal(res.status, 400, `${url} ${field}`);
      const text = JSON.stringify(res.body);
      assert.ok(text.includes(field), `${url}: the error names "${field}": ${text}`);
      assert.ok(!text.includes(secret) && !text.includes(secret.slice(0, 8)), `${url}: the error does not echo the value: ${text}`);
    }
    const read = await s.fetch(`/v1/secret/data/k?version=${secret}`);
    assert.equal(read.status, 400);
    assert.ok(!JSON.stringify(read.body).includes(secret.slice(0, 8)));
    assert.ok(!logged.some((l) => l.includes(secret.slice(0, 8))), 'nor does any log line');
  });
});

describe('Concurrency guarantees', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer({ unsealed: true })));
  after(() => s.close());

  it('lets a num_uses=1 token succeed exactly once among 50 parallel requests', async () => {
    const token = ((await s.fetch('/v1/auth/token/create', { body: { num_uses: 1 } })).body!['auth'] as { client_token: string }).client_token;
    const results = await Promise.all(Array.from({ length: 50 }, () => s.fetch('/v1/auth/token/lookup-self', { token })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 403).length, 49);
  });

  it('gives exactly one success to 100 parallel check-and-set writes of one version', async () => {
    await s.fetch('/v1/secret/data/race', { body: { data: { n: 0 } } });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.fetch('/v1/secret/data/race', { body: { data: { n: i + 1 }, options: { cas: 1 } } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 400).length, 99);
    const meta = (await s.fetch('/v1/secret/metadata/race')).body!['data'] as { current_version: number };
    assert.equal(meta.current_version, 2);
  });
});

describe('Unseal over HTTP', () => {
  let s: TestServer;
  before(async () => (s = await startTestServer()));
  after(() => s.close());

  it('refuses to reset unseal progress on an unsealed server', async () => {
    const unsealed = await startTestServer({ unsealed: true });
    try {
      assert.deepEqual(await unsealed.fetch('/v1/sys/unseal', { method: 'PUT', body: { reset: true }, token: '' }), { status: 400, body: { errors: ['vault is unsealed'] } });
    } finally {
      await unsealed.close();
    }
  });

  it('initialises, ignores a duplicate share, resets after a failed attempt, and unseals', async () => {
    const init = await s.fetch('/v1/sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 }, token: '' });
    assert.equal(init.status, 200);
    const keys = init.body!['keys'] as string[];
    const b64 = init.body!['keys_base64'] as string[];
    assert.equal(keys.length, 5);
    assert.match(String(init.body!['root_token']), /^hvs\./);
    assert.equal((await s.fetch('/v1/sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 }, token: '' })).status, 400);
    const unseal = (key: string) => s.fetch('/v1/sys/unseal', { method: 'PUT', body: { key }, token: '' });
    assert.equal((await unseal(keys[0]!)).body!['progress'], 1);
    assert.equal((await unseal(b64[0]!)).body!['progress'], 1);
    const wrong = (BigInt(`0x${keys[1]!}`) ^ 1n).toString(16).padStart(66, '0');
    assert.equal((await unseal(wrong)).body!['progress'], 2);
    const failed = await unseal(keys[2]!);
    assert.equal(failed.status, 400);
    assert.equal((await s.fetch('/v1/sys/seal-status', { token: '' })).body!['progress'], 0);
    for (const bad of ['zz', 'abcd', '']) assert.equal((await unseal(bad)).status, 400);
    await unseal(keys[4]!);
    await unseal(b64[2]!);
    const done = await unseal(keys[3]!);
    assert.equal(done.body!['sealed'], false);
    assert.equal((await s.fetch('/v1/sys/health', { token: '' })).status, 200);
  });
});
