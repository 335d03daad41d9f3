import http from 'node:http';

/** The baseline: a bare node:http server answering a small JSON body. */
const body = JSON.stringify({ request_id: '00000000-0000-0000-0000-000000000000', data: { data: { password: 'hunter2' } } });
const port = Number(process.argv[2] ?? 8399);
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
