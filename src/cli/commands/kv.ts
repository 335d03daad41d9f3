import { flagBool, flagList, flagSet, flagString, UsageError, type ParsedArgs } from '../args.js';
import { ApiError, type Client } from '../client.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, parseKvArgs, printSecret, type Command, type Io } from '../command.js';
import { displayValue, formatValue, render, sortedRows, table } from '../output.js';

const KV_FLAGS = [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'mount', kind: 'string' as const, usage: 'The KV mount; PATH is then relative to it.' }];

interface KvPath {
  readonly mount: string;
  readonly rel: string;
  readonly version: 1 | 2;
}

/** Find the mount and KV version of a path, as the Vault CLI does through sys/internal/ui/mounts. */
async function resolve(client: Client, p: ParsedArgs): Promise<KvPath> {
  const arg = (p.args[0] ?? '').replace(/^\/+/, '');
  if (!arg && !flagString(p, 'mount')) throw new UsageError('Not enough arguments: expected a PATH');
  const mountFlag = flagString(p, 'mount').replace(/^\/+|\/+$/g, '');
  const full = mountFlag ? `${mountFlag}/${arg}` : arg;
  let body;
  try {
    // As Vault's CLI: the preflight is never wrapped, whatever -wrap-ttl asks of the request itself.
    body = (await client.request('GET', `sys/internal/ui/mounts/${full}`, undefined, {}, { wrap: false })).body;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      throw new Error(`preflight capability check returned 403, please ensure client's policies grant access to path "${full}"`);
    }
    throw e;
  }
  const d = (body?.['data'] as Record<string, unknown>) ?? {};
  const mount = String(d['path'] ?? '');
  const options = (d['options'] as Record<string, string> | null) ?? {};
  return { mount, rel: full.slice(mount.length), version: options['version'] === '2' ? 2 : 1 };
}

function v2(kp: KvPath, api: string): string {
  return `${kp.mount}${api}/${kp.rel}`;
}

/** Vault's section header: the title between equal signs, as wide as `width` (at least 2 a side). */
function padEqualSigns(title: string, width: number): string {
  let signs = width - (title.length + 2);
  if (signs <= 0) signs = 4;
  if (signs % 2 !== 0) signs++;
  return `${'='.repeat(signs / 2)} ${title} ${'='.repeat(signs / 2)}`;
}

/** A path under its header, as the Vault CLI prints "Secret Path". */
function pathSection(title: string, path: string): string {
  return `${padEqualSigns(title, path.length)}\n${path}`;
}

/** A map as a table under a header sized by its longest key and value, as the Vault CLI does. */
function mapSection(title: string, data: Record<string, unknown>): string {
  const widest = Math.max(0, ...Object.entries(data).map(([k, v]) => k.length + formatValue(displayValue(k, v)).length));
  return `${padEqualSigns(title, widest + 4)}\n${table(sortedRows(data))}`;
}

function printKvMetadata(io: Io, p: ParsedArgs, path: string, body: Record<string, unknown>): number {
  const meta = (body['data'] as Record<string, unknown>) ?? {};
  if (flagString(p, 'field')) return printSecret(io, p, body, meta);
  io.out(render(formatOf(p), body, () => `${pathSection('Secret Path', path)}\n\n${mapSection('Metadata', meta)}`));
  return 0;
}

const versionsFlag = { name: 'versions', kind: 'list' as const, usage: 'Comma-separated version numbers.' };

function kvCommand(name: string, synopsis: string, usage: string, extra: Command['flags'], run: (kp: KvPath, client: Client, p: ParsedArgs, io: Io) => Promise<number>): Command {
  return defineCommand({
    name: `kv ${name}`,
    synopsis,
    usage,
    flags: [...KV_FLAGS, ...extra],
    async run(p, io) {
      const client = clientFrom(p);
      return run(await resolve(client, p), client, p, io);
    },
  });
}

export const kvCommands: Command[] = [
  kvCommand('get', 'Read a secret', 'Usage: coffer kv get [options] PATH\n\n  Read a secret (KV v1 or v2); -version reads an older version.\n\n      $ coffer kv get -field=password secret/app', [{ name: 'version', kind: 'int', usage: 'Version to read (KV v2).' }], async (kp, client, p, io) => {
    const path = kp.version === 2 ? v2(kp, 'data') : kp.mount + kp.rel;
    const version = flagString(p, 'version');
    const body = await client.read(path, kp.version === 2 && version ? `?version=${version}` : '');
    if (body?.['wrap_info']) return printSecret(io, p, body, null);
    const outer = (body?.['data'] as Record<string, unknown> | null | undefined) ?? null;
    const data = kp.version === 2 ? ((outer?.['data'] as Record<string, unknown> | null | undefined) ?? null) : outer;
    // A deleted or destroyed version still has metadata, which Vault prints without a Data section.
    const meta = kp.version === 2 ? ((outer?.['metadata'] as Record<string, unknown> | null | undefined) ?? null) : null;
    if (!body || (!data && !meta)) {
      io.err(`No value found at ${path}${version ? ` with version ${version}` : ''}`);
      return 2;
    }
    if (kp.version === 1 || flagString(p, 'field') || formatOf(p) !== 'table') return printSecret(io, p, body, data);
    const parts = [pathSection('Secret Path', path)];
    if (meta) parts.push(mapSection('Metadata', meta));
    if (data) parts.push(mapSection('Data', data));
    io.out(parts.join('\n\n'));
    return 0;
  }),
  kvCommand('put', 'Write a secret', 'Usage: coffer kv put [options] PATH KEY=VALUE...\n\n  Write a secret, replacing the previous one (a new version on KV v2).\n\n      $ coffer kv put secret/app password=s3cret', [{ name: 'cas', kind: 'int', usage: 'Check-and-set: write only if the current version is this (0: only if absent).' }], async (kp, client, p, io) => {
    const data = await parseKvArgs(p.args.slice(1), io);
    if (Object.keys(data).length === 0) throw new UsageError('Must supply data');
    if (kp.version === 1) {
      await client.write(kp.mount + kp.rel, data);
      io.out(`Success! Data written to: ${kp.mount}${kp.rel}`);
      return 0;
    }
    const options = flagSet(p, 'cas') ? { cas: Number(flagString(p, 'cas')) } : {};
    const res = await client.write(v2(kp, 'data'), { data, options });
    return printKvMetadata(io, p, v2(kp, 'data'), res.body ?? {});
  }),
  kvCommand('patch', 'Update keys of an existing secret', 'Usage: coffer kv patch [options] PATH KEY=VALUE...\n\n  Merge KEY=VALUE pairs into the latest version (KV v2). -method=rw reads and writes instead of PATCH.', [{ name: 'cas', kind: 'int', usage: 'Check-and-set version.' }, { name: 'method', kind: 'string', usage: '"patch" (default) or "rw".' }], async (kp, client, p, io) => {
    if (kp.version !== 2) throw new Error('KV engine mount must be version 2 for patch support');
    const data = await parseKvArgs(p.args.slice(1), io);
    const options = flagSet(p, 'cas') ? { cas: Number(flagString(p, 'cas')) } : {};
    let res;
    if (flagString(p, 'method', 'patch') === 'rw') {
      const cur = await client.read(v2(kp, 'data'));
      const d = (cur?.['data'] as Record<string, unknown> | null) ?? null;
      if (!d?.['data']) throw new Error(`No value found at ${v2(kp, 'data')}`);
      const version = Number((d['metadata'] as Record<string, unknown>)['version']);
      res = await client.write(v2(kp, 'data'), { data: { ...(d['data'] as object), ...data }, options: { cas: version, ...options } });
    } else {
      res = await client.request('PATCH', v2(kp, 'data'), { data, options }, { 'Content-Type': 'application/merge-patch+json' });
    }
    return printKvMetadata(io, p, v2(kp, 'data'), res.body ?? {});
  }),
  kvCommand('list', 'List secrets under a path', 'Usage: coffer kv list [options] PATH\n\n  List the keys under PATH.', [], async (kp, client, p, io) => {
    const rel = kp.rel === '' || kp.rel.endsWith('/') ? kp.rel : `${kp.rel}/`;
    const path = kp.version === 2 ? `${kp.mount}metadata/${rel}` : kp.mount + rel;
    const body = await client.list(path);
    const keys = ((body?.['data'] as Record<string, unknown> | undefined)?.['keys'] as string[] | undefined) ?? [];
    if (keys.length === 0) {
      io.err(`No value found at ${path}`);
      return 2;
    }
    io.out(render(formatOf(p), keys, () => ['Keys', '----', ...keys].join('\n')));
    return 0;
  }),
  kvCommand('delete', 'Delete versions of a secret', 'Usage: coffer kv delete [options] PATH\n\n  Soft-delete the latest version (or -versions) of a secret; KV v1 deletes it.', [versionsFlag], async (kp, client, p, io) => {
    const versions = flagList(p, 'versions');
    if (kp.version === 1) await client.delete(kp.mount + kp.rel);
    else if (versions.length) await client.write(v2(kp, 'delete'), { versions: versions.map(Number) });
    else await client.delete(v2(kp, 'data'));
    io.out(`Success! Data deleted (if it existed) at: ${kp.version === 2 ? v2(kp, 'data') : kp.mount + kp.rel}`);
    return 0;
  }),
  ...(['undelete', 'destroy'] as const).map((op) =>
    kvCommand(op, op === 'undelete' ? 'Restore deleted versions' : 'Permanently destroy versions', `Usage: coffer kv ${op} [options] -versions=N[,M] PATH\n\n  ${op === 'undelete' ? 'Restore soft-deleted' : 'Permanently destroy the data of'} the given versions (KV v2).`, [versionsFlag], async (kp, client, p, io) => {
      if (kp.version !== 2) throw new Error(`${op} is only supported on KV version 2`);
      const versions = flagList(p, 'versions');
      if (versions.length === 0) throw new UsageError('No versions provided, use the "-versions" flag to specify the version(s)');
      await client.write(v2(kp, op), { versions: versions.map(Number) });
      io.out(op === 'undelete' ? `Success! Data written to: ${v2(kp, 'undelete')}` : `Success! Data written to: ${v2(kp, 'destroy')}`);
      return 0;
    }),
  ),
  kvCommand('metadata get', 'Read a secret\'s metadata', 'Usage: coffer kv metadata get [options] PATH', [], async (kp, client, p, io) => {
    if (kp.version !== 2) throw new Error('Metadata not supported on KV Version 1');
    const body = await client.read(v2(kp, 'metadata'));
    if (!body) {
      io.err(`No value found at ${v2(kp, 'metadata')}`);
      return 2;
    }
    const meta = (body['data'] as Record<string, unknown>) ?? {};
    if (flagString(p, 'field') || formatOf(p) !== 'table') return printSecret(io, p, body, meta);
    const { versions, ...rest } = meta;
    const parts = [pathSection('Metadata Path', v2(kp, 'metadata')), mapSection('Metadata', rest)];
    for (const [n, v] of Object.entries((versions as Record<string, Record<string, unknown>>) ?? {}).sort((a, b) => Number(b[0]) - Number(a[0]))) {
      parts.push(mapSection(`Version ${n}`, v));
    }
    io.out(parts.join('\n\n'));
    return 0;
  }),
  ...(['put', 'patch'] as const).map((op) =>
    kvCommand(`metadata ${op}`, op === 'put' ? 'Set a secret\'s metadata' : 'Patch a secret\'s metadata', `Usage: coffer kv metadata ${op} [options] PATH`, [
      { name: 'max-versions', kind: 'int', usage: 'Versions to keep.' },
      { name: 'cas-required', kind: 'bool', usage: 'Require check-and-set on writes.' },
      { name: 'delete-version-after', kind: 'string', usage: 'Soft-delete versions after this long.' },
      { name: 'custom-metadata', kind: 'list', usage: 'key=value pairs; repeatable.' },
    ], async (kp, client, p, io) => {
      if (kp.version !== 2) throw new Error('Metadata not supported on KV Version 1');
      const body: Record<string, unknown> = {};
      if (flagSet(p, 'max-versions')) body['max_versions'] = Number(flagString(p, 'max-versions'));
      if (flagSet(p, 'cas-required')) body['cas_required'] = flagBool(p, 'cas-required');
      if (flagSet(p, 'delete-version-after')) body['delete_version_after'] = flagString(p, 'delete-version-after');
      if (flagSet(p, 'custom-metadata')) {
        const cm: Record<string, string> = {};
        for (const kv of p.flags.get('custom-metadata') ?? []) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw new UsageError(`invalid -custom-metadata "${kv}": expected key=value`);
          cm[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        body['custom_metadata'] = cm;
      }
      if (op === 'put') await client.write(v2(kp, 'metadata'), body);
      else await client.request('PATCH', v2(kp, 'metadata'), body, { 'Content-Type': 'application/merge-patch+json' });
      io.out(`Success! Data written to: ${v2(kp, 'metadata')}`);
      return 0;
    }),
  ),
  kvCommand('metadata delete', 'Delete a secret and all its versions', 'Usage: coffer kv metadata delete [options] PATH', [], async (kp, client, _p, io) => {
    if (kp.version !== 2) throw new Error('Metadata not supported on KV Version 1');
    await client.delete(v2(kp, 'metadata'));
    io.out(`Success! Data deleted (if it existed) at: ${v2(kp, 'metadata')}`);
    return 0;
  }),
  kvCommand('enable-versioning', 'Turn a KV v1 mount into KV v2', 'Usage: coffer kv enable-versioning [options] PATH\n\n  Upgrade the KV mount at PATH to version 2; existing values become version 1.', [], async (kp, client, _p, io) => {
    await client.write(`sys/mounts/${kp.mount}tune`, { options: { version: '2' } });
    io.out(`Success! Tuned the secrets engine at: ${kp.mount}`);
    return 0;
  }),
];

