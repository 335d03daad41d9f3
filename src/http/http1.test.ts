import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseHead } from './http1.js';
import { rawExchange, startTestServer, type TestServer } from './testing.js';
import { selfSignedCert } from './tls-fixture.js';

const limits = { maxHeaders: 100 };

describe('parseHead', () => {
  it('accepts LIST and any other method token', () => {
    assert.equal(parseHead('LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x', limits).method, 'LIST');
    assert.equal(parseHead('PROPFIND /x HTTP/1.1', limits).method, 'PROPFIND');
  });

  it('reads framing from Content-Length or chunked, and keep-alive from the version', () => {
    assert.deepEqual(parseHead('POST /a HTTP/1.1\r\nContent-Length: 12', limits).framing, { kind: 'length', length: 12 });
    assert.deepEqual(parseHead('POST /a HTTP/1.1\r\nTransfer-Encoding: Chunked', limits).framing, { kind: 'chunked' });
    assert.equal(parseHead('GET /a HTTP/1.1', limits).keepAlive, true);
    assert.equal(parseHead('GET /a HTTP/1.1\r\nConnection: close', limits).keepAlive, false);
    assert.equal(parseHead('GET /a HTTP/1.0', limits).keepAlive, false);
    assert.equal(parseHead('GET http://h:8200/v1/a?b HTTP/1.1', limits).url, '/v1/a?b');
  });

  it('refuses every framing a proxy could read differently', () => {
    for (const head of [
      'POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked',
      'POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5',
      'POST /a HTTP/1.1\r\nContent-Length: 5x',
      'POST /a HTTP/1.1\r\nContent-Length: -1',
      'POST /a HTTP/1.1\r\nTransfer-Encoding: gzip, chunked',
      'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
      'POST /a HTTP/1.0\r\nTransfer-Encoding: chunked',
      'GET /a HTTP/1.1\r\nX: a\r\n folded',
      'GET /a HTTP/1.1\r\nBad Name: x',
      'GET /a HTTP/1.1\r\nX: a\x01b',
      'GET /a b HTTP/1.1',
      'GET a HTTP/1.1',
      'GET /a HTTP/2.0',
      'G(T /a HTTP/1.1',
      'GET /a HTTP/1.1\r\nUpgrade: websocket',
    ]) {
      assert.throws(() => parseHead(head, limits), Error, head);
    }
  });
});

async function listingServer(tls: boolean): Promise<TestServer> {
  const cert = tls ? await selfSignedCert() : null;
  const server = await startTestServer({ unsealed: true, listener: { tls: cert ? { ...cert, minVersion: 'TLSv1.2', clientCerts: 'request', clientCaFile: '' } : null } });
  const put = (name: string) => server.core.handle({ operation: 'update', path: `secret/data/${name}`, data: { data: { v: 1 } }, token: server.rootToken });
  await put('a');
  await put('b');
  return server;
}

for (const tls of [false, true]) {
  describe(`LIST over raw ${tls ? 'TLS' : 'plain TCP'} sockets`, () => {
    let server: TestServer;
    before(async () => (server = await listingServer(tls)));
    after(() => server.close());

    it('answers LIST with the keys', async () => {
      const [res] = await rawExchange(server.port, `LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${server.rootToken}\r\nConnection: close\r\n\r\n`, { tls });
      assert.equal(res?.status, 200);
      assert.deepEqual(JSON.parse(res!.body).data.keys, ['a', 'b']);
    });

    it('serves LIST, GET and LIST pipelined on one keep-alive connection', async () => {
      const t = `X-Vault-Token: ${server.rootToken}\r\n`;
      const body = JSON.stringify({ data: { v: 2 } });
      const res = await rawExchange(
        server.port,
        `LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n${t}\r\n` +
          `POST /v1/secret/data/c HTTP/1.1\r\nHost: x\r\n${t}Content-Length: ${body.length}\r\n\r\n${body}` +
          `LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n${t}\r\n`,
        { tls, expect: 3 },
      );
      assert.deepEqual(res.map((r) => r.status), [200, 200, 200]);
      assert.deepEqual(JSON.parse(res[2]!.body).data.keys, ['a', 'b', 'c']);
    });

    it('finds a request head sent one byte at a time', async () => {
      const req = `LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${server.rootToken}\r\nConnection: close\r\n\r\n`;
      const [res] = await rawExchange(server.port, [...req], { tls, gapMs: 1 });
      assert.equal(res?.status, 200);
    });

    it('decodes chunked bodies with extensions and trailers, split anywhere', async () => {
      const body = JSON.stringify({ data: { v: 'chunked' } });
      const framed = `${(5).toString(16)};ext=1\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\nX-T: y\r\n\r\n`;
      const req = `POST /v1/secret/data/ch HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${server.rootToken}\r\nTransfer-Encoding: chunked\r\n\r\n${framed}`;
      const pieces = req.match(/[\s\S]{1,7}/g)!;
      const [res] = await rawExchange(server.port, pieces, { tls, expect: 1 });
      assert.equal(res?.status, 200);
      const [read] = await rawExchange(server.port, `GET /v1/secret/data/ch HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${server.rootToken}\r\nConnection: close\r\n\r\n`, { tls });
      assert.deepEqual(JSON.parse(read!.body).data.data, { v: 'chunked' });
    });

    it('answers Expect: 100-continue before the body is sent', async () => {
      const body = JSON.stringify({ data: { v: 1 } });
      const head = `POST /v1/secret/data/e HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${server.rootToken}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`;
      const res = await rawExchange(server.port, [head, body], { tls, expect: 2, gapMs: 50 });
      assert.deepEqual(res.map((r) => r.status), [100, 200]);
    });

    it('answers a malformed request pipelined behind a good one after it, then closes', async () => {
      const res = await rawExchange(server.port, `GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/x HTTP/9.9\r\n\r\n`, { tls });
      assert.deepEqual(res.map((r) => r.status), [200, 505]);
    });

    it('refuses a LIST smuggled inside a body with CL and TE together', async () => {
      const smuggled = `LIST /v1/secret/metadata/ HTTP/1.1\r\nX-Vault-Token: ${server.rootToken}\r\n\r\n`;
      const res = await rawExchange(server.port, `POST /v1/secret/data/z HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, { tls });
      assert.equal(res[0]?.status, 400);
      assert.equal(res.length, 1);
    });
  });
}
