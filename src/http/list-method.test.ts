import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestFramer } from './list-method.js';
import { rawExchange, startTestServer, type TestServer } from './testing.js';
import { selfSignedCert } from './tls-fixture.js';

const feed = (input: string | string[]) => {
  const f = new RequestFramer();
  const pieces = Array.isArray(input) ? input : [input];
  return Buffer.concat(pieces.flatMap((p) => f.push(Buffer.from(p, 'latin1')))).toString('latin1');
};

describe('RequestFramer', () => {
  it('rewrites LIST to GET with list=true, keeping the rest of the head', () => {
    assert.equal(feed('LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n\r\n'), 'GET /v1/secret/metadata/?list=true HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(feed('LIST /v1/a?x=1 HTTP/1.1\r\n\r\n'), 'GET /v1/a?list=true&x=1 HTTP/1.1\r\n\r\n');
  });

  it('leaves other methods byte for byte', () => {
    const req = 'GET /v1/a HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/b HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}';
    assert.equal(feed(req), req);
  });

  it('does not treat "LIST" inside a Content-Length body as a request line', () => {
    const body = 'LIST /v1/evil HTTP/1.1\r\n\r\n';
    const req = `POST /v1/a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}LIST /v1/b HTTP/1.1\r\n\r\n`;
    assert.equal(feed(req), `POST /v1/a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /v1/b?list=true HTTP/1.1\r\n\r\n`);
  });

  it('follows chunked bodies, extensions and trailers', () => {
    const chunk = 'LIST /v1/evil HTTP/1.1\r\n\r\n';
    const req = `POST /v1/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)};ext=1\r\n${chunk}\r\n0\r\nX-Trailer: y\r\n\r\nLIST /v1/b HTTP/1.1\r\n\r\n`;
    assert.ok(feed(req).endsWith(`${chunk}\r\n0\r\nX-Trailer: y\r\n\r\nGET /v1/b?list=true HTTP/1.1\r\n\r\n`));
    assert.ok(feed(req).includes('LIST /v1/evil'));
  });

  it('finds heads split across many tiny chunks', () => {
    const req = 'LIST /v1/x HTTP/1.1\r\nHost: y\r\n\r\n';
    assert.equal(feed([...req]), 'GET /v1/x?list=true HTTP/1.1\r\nHost: y\r\n\r\n');
  });

  it('stops interpreting on ambiguous framing and passes every byte through', () => {
    for (const head of [
      'POST /v1/a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST /v1/a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      'POST /v1/a HTTP/1.1\r\nContent-Length: 5x\r\n\r\n',
      'POST /v1/a HTTP/1.1\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n',
      'POST /v1/a HTTP/1.1\r\nX: a\r\n folded\r\n\r\n',
    ]) {
      const input = `${head}LIST /v1/b HTTP/1.1\r\n\r\n`;
      assert.equal(feed(input), input, head);
    }
  });
});

async function listingServer(tls: boolean): Promise<TestServer> {
  const cert = tls ? await selfSignedCert() : null;
  const server = await startTestServer({ unsealed: true, listener: { tls: cert ? { ...cert, minVersion: 'TLSv1.2' } : null } });
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

    it('refuses a LIST smuggled inside a body with CL and TE together', async () => {
      const smuggled = `LIST /v1/secret/metadata/ HTTP/1.1\r\nX-Vault-Token: ${server.rootToken}\r\n\r\n`;
      const res = await rawExchange(server.port, `POST /v1/secret/data/z HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, { tls });
      assert.equal(res[0]?.status, 400);
      assert.equal(res.length, 1);
    });
  });
}
