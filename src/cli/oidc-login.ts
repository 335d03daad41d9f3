import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from './args.js';
import type { Client } from './client.js';
import type { Io } from './command.js';

const DONE_PAGE = '<!doctype html><html><head><title>coffer</title></head><body><p>Signed in. You can close this window and return to the terminal.</p></body></html>';
const FAILED_PAGE = '<!doctype html><html><head><title>coffer</title></head><body><p>The login failed; the terminal says why.</p></body></html>';
const WAIT_MS = 5 * 60_000;

/** Open a URL in the user's browser, as well as the platform allows; a failure is not an error (the URL is printed). */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(command, [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
  } catch {
    // the URL is on the terminal
  }
}

const str = (kv: Record<string, unknown>, key: string, fallback: string) => (typeof kv[key] === 'string' && kv[key] !== '' ? (kv[key] as string) : fallback);

/**
 * `coffer login -method=oidc`, as Vault's CLI does it: listen on localhost:8250 for the provider's
 * redirect, ask the server for the authorization URL (with that redirect_uri and a client nonce),
 * send the browser there, and hand the code and state the browser brings back to the server's
 * callback. Its answer is the login's.
 */
export async function oidcLogin(client: Client, mount: string, kv: Record<string, unknown>, io: Io): Promise<Record<string, unknown>> {
  const listen = str(kv, 'listenaddress', 'localhost');
  const port = Number(str(kv, 'port', '8250'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('"port" must be a port number');
  const clientNonce = randomBytes(20).toString('base64url');

  let settle: { resolve: (q: URLSearchParams) => void; reject: (e: Error) => void } | null = null;
  const callback = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/oidc/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(url.searchParams.has('code') ? DONE_PAGE : FAILED_PAGE);
    settle?.resolve(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${listen}:${port} for the OIDC callback (${e.code ?? e.message}); pass port=N`)));
    server.listen(port, listen, resolve);
  });
  // port=0 takes any free port, which the redirect URI then names.
  const bound = (server.address() as AddressInfo).port;
  const redirectUri = `${str(kv, 'callbackmethod', 'http')}://${str(kv, 'callbackhost', 'localhost')}:${str(kv, 'callbackport', String(bound))}/oidc/callback`;
  const timer = setTimeout(() => settle?.reject(new Error('timed out waiting for the OIDC provider to redirect back')), WAIT_MS);
  try {
    const started = await client.write(`auth/${mount}oidc/auth_url`, { role: str(kv, 'role', ''), redirect_uri: redirectUri, client_nonce: clientNonce });
    const authUrl = String(((started.body?.['data'] ?? {}) as Record<string, unknown>)['auth_url'] ?? '');
    if (!authUrl) throw new Error(`the server gave no authorization URL for redirect_uri ${redirectUri}: check the role's allowed_redirect_uris`);
    // On stderr, as Vault's CLI does, so that -token-only and -format=json stay clean.
    io.err(`Complete the login via your OIDC provider. Launching browser to:\n\n    ${authUrl}\n\n`);
    if (str(kv, 'skip_browser', 'false') !== 'true') openBrowser(authUrl);
    io.err('Waiting for OIDC authentication to complete...');
    const q = await callback;
    if (q.get('error')) throw new Error(`the OIDC provider refused the login: ${q.get('error')!.replace(/[^\w-]/g, '')}`);
    const params = new URLSearchParams({ state: q.get('state') ?? '', code: q.get('code') ?? '', client_nonce: clientNonce });
    const done = await client.request('GET', `auth/${mount}oidc/callback?${params.toString()}`);
    return done.body ?? {};
  } finally {
    clearTimeout(timer);
    server.close();
  }
}
