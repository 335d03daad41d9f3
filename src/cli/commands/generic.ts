import { flagString, UsageError, type ParsedArgs } from '../args.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, parseKvArgs, printSecret, type Io } from '../command.js';
import { render } from '../output.js';

const pathArg = (args: readonly string[], cmd: string): string => {
  const path = args[0];
  if (!path) throw new UsageError(`Not enough arguments: "coffer ${cmd}" needs a PATH`);
  return path.replace(/^\/+/, '');
};

/** After a write: "Success!" for an empty answer (204), else the answer as `read` prints it. */
function printWritten(io: Io, p: ParsedArgs, path: string, body: Record<string, unknown> | null): number {
  if (!body) {
    io.out(`Success! Data written to: ${path}`);
    return 0;
  }
  return printSecret(io, p, body, (body['data'] as Record<string, unknown> | null) ?? null);
}

export const readCommand = defineCommand({
  name: 'read',
  synopsis: 'Read data at a path',
  usage: 'Usage: coffer read [options] PATH [KEY=VALUE ...]\n\n  Read the data at PATH. KEY=VALUE pairs are sent as query parameters.\n\n      $ coffer read secret/data/app',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const path = pathArg(p.args, 'read');
    const q = new URLSearchParams(Object.entries(await parseKvArgs(p.args.slice(1), io)).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const body = await clientFrom(p).read(path, q ? `?${q}` : '');
    if (!body) {
      io.err(`No value found at ${path}`);
      return 2;
    }
    return printSecret(io, p, body, (body['data'] as Record<string, unknown> | null) ?? null);
  },
});

export const writeCommand = defineCommand({
  name: 'write',
  synopsis: 'Write data to a path',
  usage: 'Usage: coffer write [options] PATH [KEY=VALUE ...]\n\n  Write KEY=VALUE pairs to PATH. VALUE may be @file to read a file, or - for stdin;\n  a lone - reads a JSON object from stdin.\n\n      $ coffer write sys/policy/app policy=@app.hcl',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'force', kind: 'bool', usage: 'Write even with no data.', aliases: ['f'] }],
  async run(p, io) {
    const path = pathArg(p.args, 'write');
    const res = await clientFrom(p).write(path, await parseKvArgs(p.args.slice(1), io));
    return printWritten(io, p, path, res.body);
  },
});

export const patchCommand = defineCommand({
  name: 'patch',
  synopsis: 'Patch data at a path (JSON merge patch)',
  usage: 'Usage: coffer patch [options] PATH [KEY=VALUE ...]\n\n  Send a JSON merge patch of KEY=VALUE pairs to PATH.',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const path = pathArg(p.args, 'patch');
    const res = await clientFrom(p).request('PATCH', path, await parseKvArgs(p.args.slice(1), io), { 'Content-Type': 'application/merge-patch+json' });
    return printWritten(io, p, path, res.body);
  },
});

export const listCommand = defineCommand({
  name: 'list',
  synopsis: 'List keys under a path',
  usage: 'Usage: coffer list [options] PATH\n\n  List the keys under PATH (sends the LIST method).',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const path = pathArg(p.args, 'list');
    const body = await clientFrom(p).list(path.endsWith('/') ? path : `${path}/`);
    if (body?.['wrap_info']) return printSecret(io, p, body, null);
    const keys = ((body?.['data'] as Record<string, unknown> | undefined)?.['keys'] as string[] | undefined) ?? [];
    if (!body || keys.length === 0) {
      io.err(`No value found at ${path}`);
      return 2;
    }
    const field = flagString(p, 'field');
    if (field) throw new UsageError('-field is not supported by list');
    io.out(render(formatOf(p), keys, () => ['Keys', '----', ...keys].join('\n')));
    return 0;
  },
});

export const deleteCommand = defineCommand({
  name: 'delete',
  synopsis: 'Delete data at a path',
  usage: 'Usage: coffer delete [options] PATH\n\n  Delete the data at PATH.',
  flags: [...HTTP_FLAGS],
  async run(p, io) {
    const path = pathArg(p.args, 'delete');
    await clientFrom(p).delete(path);
    io.out(`Success! Data deleted (if it existed) at: ${path}`);
    return 0;
  },
});

export const unwrapCommand = defineCommand({
  name: 'unwrap',
  synopsis: 'Unwrap a wrapped secret',
  usage:
    'Usage: coffer unwrap [options] [TOKEN]\n\n  Answer what a wrapping token holds, as the read it wrapped would have. Without TOKEN, the\n  client token (COFFER_TOKEN) is the wrapping token. A wrapping token unwraps once.\n\n      $ coffer unwrap hvs.CAESIB...',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const token = p.args[0];
    if (p.args.length > 1) throw new UsageError('Too many arguments: expected at most one TOKEN');
    const body = (await clientFrom(p).write('sys/wrapping/unwrap', token ? { token } : {})).body ?? {};
    return printSecret(io, p, body, (body['data'] as Record<string, unknown> | null) ?? null);
  },
});
