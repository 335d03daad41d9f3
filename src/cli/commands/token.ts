import { flagBool, flagList, flagSet, flagString, UsageError, type ParsedArgs } from '../args.js';
import { Client, TOKEN_FILE, writeTokenFile } from '../client.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, parseKvArgs, printSecret, type Io } from '../command.js';
import { oidcLogin } from '../oidc-login.js';
import { render } from '../output.js';

const data = (b: Record<string, unknown>) => (b['data'] as Record<string, unknown> | null) ?? null;

/**
 * How each method logs in: the request it sends. userpass names the user in the path and asks
 * for a missing password without echo; every other method (approle, kubernetes, jwt, cert)
 * sends its KEY=VALUE pairs to auth/<path>/login as they are (oidc runs a browser flow: oidc-login.ts).
 */
async function loginRequest(method: string, mount: string, kv: Record<string, unknown>, io: Io): Promise<{ path: string; body: Record<string, unknown> }> {
  if (method === 'userpass' || method === 'ldap') {
    const { username, password, ...rest } = kv;
    if (typeof username !== 'string' || username === '') throw new UsageError('"username" is required: coffer login -method=userpass username=NAME');
    const secret = typeof password === 'string' ? password : await io.prompt('Password (will be hidden): ', true);
    return { path: `auth/${mount}login/${encodeURIComponent(username)}`, body: { ...rest, password: secret } };
  }
  return { path: `auth/${mount}login`, body: kv };
}

export const loginCommand = defineCommand({
  name: 'login',
  synopsis: 'Authenticate locally',
  usage: `Usage: coffer login [options] [TOKEN | KEY=VALUE ...]

  With -method=token (the default), check TOKEN against the server and store it in
  ${TOKEN_FILE} for later commands; without TOKEN it is read from the terminal without echo,
  and "-" reads it from stdin. With another method, log in through the auth method mounted at
  -path (default: the method's name) and store the token it issues:

      $ coffer login -method=userpass username=alice
      $ coffer login -method=approle role_id=... secret_id=...
      $ coffer login -method=kubernetes role=my-app jwt=@/var/run/secrets/kubernetes.io/serviceaccount/token
      $ coffer login -method=jwt role=ci jwt=@token.jwt
      $ coffer login -method=oidc role=people

  -method=oidc signs in through the browser: it listens on localhost:8250 (port=N,
  listenaddress=ADDR, callbackhost=HOST, callbackport=N change that), prints the provider's
  URL and opens it (skip_browser=true only prints it), and waits for the redirect back.`,
  flags: [
    ...HTTP_FLAGS,
    ...OUTPUT_FLAGS,
    { name: 'method', kind: 'string', usage: 'Auth method: token, userpass, approle, kubernetes, jwt, cert, ...', default: 'token' },
    { name: 'path', kind: 'string', usage: 'Where the auth method is mounted; the method name by default.' },
    { name: 'no-store', kind: 'bool', usage: 'Do not store the token.' },
    { name: 'token-only', kind: 'bool', usage: 'Print only the token, and do not store it.' },
  ],
  async run(p, io) {
    const method = flagString(p, 'method', 'token');
    const base = clientFrom(p);
    let shown: Record<string, unknown>;
    let token: string;
    if (method === 'token') {
      token = p.args[0] ?? '';
      if (token === '-') token = (await io.stdin()).trim();
      if (token === '') token = (await io.prompt('Token (will be hidden): ', true)).trim();
      const client = new Client({ ...base.config, token });
      const body = (await client.request('GET', 'auth/token/lookup-self')).body ?? {};
      const d = data(body) ?? {};
      shown = { ...body, auth: { client_token: token, accessor: d['accessor'], lease_duration: d['ttl'], renewable: d['renewable'], token_policies: d['policies'], identity_policies: [], policies: d['policies'] } };
    } else {
      const mount = (flagString(p, 'path') || method).replace(/^\/+|\/+$/g, '') + '/';
      const kv = await parseKvArgs(p.args, io);
      // A login is made without a token: the one stored from earlier is not sent.
      const anonymous = new Client({ ...base.config, token: '' });
      if (method === 'oidc') {
        shown = await oidcLogin(anonymous, mount, kv, io);
      } else {
        const { path, body } = await loginRequest(method, mount, kv, io);
        shown = (await anonymous.write(path, body)).body ?? {};
      }
      // A wrapped login answers a wrapping token, for someone else to unwrap: nothing is stored.
      if (shown['wrap_info']) return printSecret(io, p, shown, null);
      const auth = shown['auth'] as Record<string, unknown> | null | undefined;
      if (!auth || typeof auth['client_token'] !== 'string') throw new Error(`the server answered the login at auth/${mount}login without a token`);
      token = auth['client_token'];
    }
    if (flagBool(p, 'token-only')) {
      io.out(token);
      return 0;
    }
    if (!flagBool(p, 'no-store')) writeTokenFile(token);
    if (formatOf(p) === 'table' && !flagString(p, 'field')) {
      io.out('Success! You are now authenticated. The token information displayed below\nis already stored in the token helper. You do NOT need to run "coffer login"\nagain. Future requests will automatically use this token.\n');
    }
    return printSecret(io, p, shown, null);
  },
});

async function lookupTarget(p: ParsedArgs, io: Io, client: Client): Promise<Record<string, unknown>> {
  const target = p.args[0];
  if (flagBool(p, 'accessor')) {
    if (!target) throw new UsageError('-accessor needs an ACCESSOR argument');
    return (await client.write('auth/token/lookup-accessor', { accessor: target })).body ?? {};
  }
  if (target === '-') return (await client.write('auth/token/lookup', { token: (await io.stdin()).trim() })).body ?? {};
  if (target) return (await client.write('auth/token/lookup', { token: target })).body ?? {};
  return (await client.request('GET', 'auth/token/lookup-self')).body ?? {};
}

export const tokenCreateCommand = defineCommand({
  name: 'token create',
  synopsis: 'Create a new token',
  usage: 'Usage: coffer token create [options]\n\n  Create a child token of the current token (or an orphan with -orphan).\n\n      $ coffer token create -policy=app -ttl=1h',
  flags: [
    ...HTTP_FLAGS,
    ...OUTPUT_FLAGS,
    { name: 'policy', kind: 'list', usage: 'Policy to attach; repeat or comma-separate.' },
    { name: 'ttl', kind: 'string', usage: 'Initial TTL, e.g. "1h".' },
    { name: 'explicit-max-ttl', kind: 'string', usage: 'Hard maximum lifetime.' },
    { name: 'period', kind: 'string', usage: 'Make a periodic token (sudo).' },
    { name: 'renewable', kind: 'bool', usage: 'Allow renewal (default true).' },
    { name: 'orphan', kind: 'bool', usage: 'Create without a parent.' },
    { name: 'no-default-policy', kind: 'bool', usage: 'Leave off the default policy.' },
    { name: 'use-limit', kind: 'int', usage: 'Number of uses; 0 is unlimited.' },
    { name: 'display-name', kind: 'string', usage: 'Name for the token.' },
    { name: 'metadata', kind: 'list', usage: 'key=value metadata; repeatable.' },
    { name: 'role', kind: 'string', usage: 'Create from this token role.' },
    { name: 'id', kind: 'string', usage: 'Token value to use (root only).' },
    { name: 'type', kind: 'string', usage: 'Token type; only "service".' },
  ],
  async run(p, io) {
    const meta: Record<string, string> = {};
    for (const kv of p.flags.get('metadata') ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`invalid -metadata "${kv}": expected key=value`);
      meta[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const body: Record<string, unknown> = {};
    if (flagSet(p, 'policy')) body['policies'] = flagList(p, 'policy');
    for (const [flag, fieldName] of [['ttl', 'ttl'], ['explicit-max-ttl', 'explicit_max_ttl'], ['period', 'period'], ['display-name', 'display_name'], ['id', 'id'], ['type', 'type']] as const) {
      if (flagSet(p, flag)) body[fieldName] = flagString(p, flag);
    }
    if (flagSet(p, 'renewable')) body['renewable'] = flagBool(p, 'renewable');
    if (flagBool(p, 'no-default-policy')) body['no_default_policy'] = true;
    if (flagSet(p, 'use-limit')) body['num_uses'] = Number(flagString(p, 'use-limit'));
    if (Object.keys(meta).length) body['meta'] = meta;
    const role = flagString(p, 'role');
    const path = role ? `auth/token/create/${role}` : flagBool(p, 'orphan') ? 'auth/token/create-orphan' : 'auth/token/create';
    const res = (await clientFrom(p).write(path, body)).body ?? {};
    return printSecret(io, p, res, null);
  },
});

export const tokenLookupCommand = defineCommand({
  name: 'token lookup',
  synopsis: 'Display information about a token',
  usage: 'Usage: coffer token lookup [options] [TOKEN | ACCESSOR]\n\n  Look up TOKEN, or the current token when none is given.',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'accessor', kind: 'bool', usage: 'Treat the argument as an accessor.' }],
  async run(p, io) {
    const body = await lookupTarget(p, io, clientFrom(p));
    return printSecret(io, p, body, data(body));
  },
});

export const tokenRenewCommand = defineCommand({
  name: 'token renew',
  synopsis: 'Renew a token',
  usage: 'Usage: coffer token renew [options] [TOKEN]\n\n  Renew TOKEN (or the current token) by -increment.',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'increment', kind: 'string', usage: 'Requested extension, e.g. "1h".' }, { name: 'accessor', kind: 'bool', usage: 'Treat the argument as an accessor.' }],
  async run(p, io) {
    const client = clientFrom(p);
    const inc = flagString(p, 'increment');
    const extra = inc ? { increment: inc } : {};
    const target = p.args[0];
    const res = flagBool(p, 'accessor')
      ? await client.write('auth/token/renew-accessor', { accessor: target, ...extra })
      : target
        ? await client.write('auth/token/renew', { token: target, ...extra })
        : await client.write('auth/token/renew-self', extra);
    return printSecret(io, p, res.body ?? {}, null);
  },
});

export const tokenRevokeCommand = defineCommand({
  name: 'token revoke',
  synopsis: 'Revoke a token and its children',
  usage: 'Usage: coffer token revoke [options] [TOKEN | ACCESSOR]\n\n  Revoke TOKEN and its children; -mode=orphan keeps the children; -self revokes the current token.',
  flags: [...HTTP_FLAGS, { name: 'self', kind: 'bool', usage: 'Revoke the current token.' }, { name: 'accessor', kind: 'bool', usage: 'Treat the argument as an accessor.' }, { name: 'mode', kind: 'string', usage: '"orphan" keeps children alive.' }],
  async run(p, io) {
    const client = clientFrom(p);
    const target = p.args[0];
    if (flagBool(p, 'self')) await client.write('auth/token/revoke-self', {});
    else if (!target) throw new UsageError('Not enough arguments: expected a TOKEN, or -self');
    else if (flagBool(p, 'accessor')) await client.write('auth/token/revoke-accessor', { accessor: target });
    else if (flagString(p, 'mode') === 'orphan') await client.write('auth/token/revoke-orphan', { token: target });
    else await client.write('auth/token/revoke', { token: target });
    io.out('Success! Revoked token (if it existed)');
    return 0;
  },
});

export const tokenCapabilitiesCommand = defineCommand({
  name: 'token capabilities',
  synopsis: 'Print a token\'s capabilities on a path',
  usage: 'Usage: coffer token capabilities [options] [TOKEN] PATH\n\n  Print the capabilities of TOKEN (or the current token) on PATH.',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'accessor', kind: 'bool', usage: 'Treat TOKEN as an accessor.' }],
  async run(p, io) {
    const client = clientFrom(p);
    if (p.args.length === 0 || p.args.length > 2) throw new UsageError('expected [TOKEN] PATH');
    const path = p.args[p.args.length - 1]!;
    const res =
      p.args.length === 1
        ? await client.write('sys/capabilities-self', { path })
        : flagBool(p, 'accessor')
          ? await client.write('sys/capabilities-accessor', { accessor: p.args[0], path })
          : await client.write('sys/capabilities', { token: p.args[0], path });
    const caps = ((res.body?.['data'] as Record<string, unknown>)?.['capabilities'] as string[]) ?? [];
    io.out(render(formatOf(p), caps, () => caps.join(', ')));
    return 0;
  },
});

