import { flagBool, flagSet, flagString, UsageError, type ParsedArgs } from '../args.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, withSlash, type Command } from '../command.js';
import { columns, formatValue, render } from '../output.js';

function tuneBody(p: ParsedArgs): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const config: Record<string, unknown> = {};
  if (flagSet(p, 'default-lease-ttl')) config['default_lease_ttl'] = flagString(p, 'default-lease-ttl');
  if (flagSet(p, 'max-lease-ttl')) config['max_lease_ttl'] = flagString(p, 'max-lease-ttl');
  if (flagSet(p, 'listing-visibility')) config['listing_visibility'] = flagString(p, 'listing-visibility');
  if (flagSet(p, 'token-type')) config['token_type'] = flagString(p, 'token-type');
  if (flagSet(p, 'description')) body['description'] = flagString(p, 'description');
  const options: Record<string, string> = {};
  for (const kv of p.flags.get('options') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid -options "${kv}": expected key=value`);
    options[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (flagSet(p, 'version')) options['version'] = flagString(p, 'version');
  if (Object.keys(options).length) body['options'] = options;
  // Vault's auth tune flags for user lockout, sent as user_lockout_config.
  const lockout: Record<string, unknown> = {};
  if (flagSet(p, 'user-lockout-threshold')) lockout['lockout_threshold'] = flagString(p, 'user-lockout-threshold');
  if (flagSet(p, 'user-lockout-duration')) lockout['lockout_duration'] = flagString(p, 'user-lockout-duration');
  if (flagSet(p, 'user-lockout-counter-reset-duration')) lockout['lockout_counter_reset_duration'] = flagString(p, 'user-lockout-counter-reset-duration');
  if (flagSet(p, 'user-lockout-disable')) lockout['lockout_disable'] = flagBool(p, 'user-lockout-disable');
  if (Object.keys(lockout).length) body['user_lockout_config'] = lockout;
  return { ...body, config };
}

const AUTH_FLAGS = [
  { name: 'token-type', kind: 'string' as const, usage: 'Type of the tokens logins issue: default-service, default-batch, service or batch.' },
];

const LOCKOUT_FLAGS = [
  { name: 'user-lockout-threshold', kind: 'string' as const, usage: 'Failed logins for one name before it is locked.' },
  { name: 'user-lockout-duration', kind: 'string' as const, usage: 'How long a locked name stays locked, e.g. "15m".' },
  { name: 'user-lockout-counter-reset-duration', kind: 'string' as const, usage: 'After this long without a failure the count starts again.' },
  { name: 'user-lockout-disable', kind: 'bool' as const, usage: 'Turn user lockout off for this mount.' },
];

const MOUNT_FLAGS = [
  { name: 'description', kind: 'string' as const, usage: 'Human-friendly description.' },
  { name: 'default-lease-ttl', kind: 'string' as const, usage: 'Default lease TTL.' },
  { name: 'max-lease-ttl', kind: 'string' as const, usage: 'Maximum lease TTL.' },
  { name: 'listing-visibility', kind: 'string' as const, usage: '"unauth" to list without a token in the UI.' },
  { name: 'options', kind: 'list' as const, usage: 'key=value engine options; repeatable.' },
];

type Mounts = Record<string, Record<string, unknown>>;

function plainList(mounts: Mounts): string {
  const rows = Object.keys(mounts).sort().map((path) => {
    const m = mounts[path]!;
    return [path, String(m['type'] ?? ''), String(m['accessor'] ?? ''), String(m['description'] ?? '')];
  });
  return columns([['Path', 'Type', 'Accessor', 'Description'], ...rows]);
}

/** The columns of Vault's `secrets list -detailed` / `auth list -detailed`, in its order and spelling. */
function detailedList(kind: 'secrets' | 'auth', mounts: Mounts): string {
  const ttl = (m: Record<string, unknown>, key: string): string => {
    if (kind === 'secrets' && ['system', 'cubbyhole', 'identity'].includes(String(m['type']))) return 'n/a';
    const v = Number((m['config'] as Record<string, unknown> | undefined)?.[key] ?? 0);
    return v > 0 ? String(v) : 'system';
  };
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const rows = Object.keys(mounts).sort().map((path) => {
    const m = mounts[path]!;
    const config = (m['config'] as Record<string, unknown> | undefined) ?? {};
    const middle = kind === 'secrets' ? [String(config['force_no_cache'] === true)] : [str(config['token_type']) || 'default-service'];
    return [
      path, str(m['type']), str(m['accessor']), ttl(m, 'default_lease_ttl'), ttl(m, 'max_lease_ttl'), ...middle,
      m['local'] === true ? 'local' : 'replicated', String(m['seal_wrap'] === true), String(m['external_entropy_access'] === true),
      formatValue(m['options'] ?? {}), str(m['description']), str(m['uuid']), str(m['plugin_version']), str(m['running_plugin_version']),
      str(m['running_sha256']), str(m['deprecation_status']),
    ];
  });
  const head = [
    'Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', kind === 'secrets' ? 'Force No Cache' : 'Token Type', 'Replication', 'Seal Wrap',
    'External Entropy Access', 'Options', 'Description', 'UUID', 'Version', 'Running Version', 'Running SHA256', 'Deprecation Status',
  ];
  return columns([head, ...rows]);
}

function tableCommands(kind: 'secrets' | 'auth'): Command[] {
  const api = kind === 'secrets' ? 'sys/mounts' : 'sys/auth';
  const noun = kind === 'secrets' ? 'secrets engine' : 'auth method';
  const cmds: Command[] = [
    defineCommand({
      name: `${kind} enable`,
      synopsis: `Enable a ${noun}`,
      usage: `Usage: coffer ${kind} enable [options] TYPE\n\n  Enable a ${noun} of TYPE at -path (default: the type name).${kind === 'secrets' ? '\n\n      $ coffer secrets enable -path=kv -version=2 kv' : ''}`,
      flags: [...HTTP_FLAGS, ...MOUNT_FLAGS, { name: 'path', kind: 'string', usage: 'Where to mount.' }, ...(kind === 'secrets' ? [{ name: 'version', kind: 'string' as const, usage: 'KV version (1 or 2).' }] : AUTH_FLAGS)],
      async run(p, io) {
        const type = p.args[0];
        if (!type) throw new UsageError('Not enough arguments: expected TYPE');
        const path = withSlash(flagString(p, 'path') || type);
        const { config, ...rest } = tuneBody(p);
        await clientFrom(p).write(`${api}/${path}`, { type, ...rest, config });
        io.out(kind === 'auth' ? `Success! Enabled ${type} auth method at: ${path}` : `Success! Enabled the ${type} ${noun} at: ${path}`);
        return 0;
      },
    }),
    defineCommand({
      name: `${kind} disable`,
      synopsis: `Disable a ${noun}`,
      usage: `Usage: coffer ${kind} disable [options] PATH\n\n  Disable the ${noun} at PATH. Its data is deleted and what it issued is revoked.`,
      flags: [...HTTP_FLAGS],
      async run(p, io) {
        const path = p.args[0];
        if (!path) throw new UsageError('Not enough arguments: expected PATH');
        await clientFrom(p).delete(`${api}/${withSlash(path)}`);
        io.out(`Success! Disabled the ${noun} (if it existed) at: ${withSlash(path)}`);
        return 0;
      },
    }),
    defineCommand({
      name: `${kind} list`,
      synopsis: `List enabled ${noun}s`,
      usage: `Usage: coffer ${kind} list [options]`,
      flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'detailed', kind: 'bool', usage: 'Show configuration too.' }],
      async run(p, io) {
        const body = (await clientFrom(p).request('GET', api)).body ?? {};
        const mounts = (body['data'] as Record<string, Record<string, unknown>>) ?? {};
        io.out(render(formatOf(p), mounts, () => (flagBool(p, 'detailed') ? detailedList(kind, mounts) : plainList(mounts))));
        return 0;
      },
    }),
    defineCommand({
      name: `${kind} tune`,
      synopsis: `Tune a ${noun}`,
      usage: `Usage: coffer ${kind} tune [options] PATH`,
      flags: [...HTTP_FLAGS, ...MOUNT_FLAGS, ...(kind === 'secrets' ? [{ name: 'version', kind: 'string' as const, usage: 'KV version; 2 upgrades a v1 mount.' }] : [...AUTH_FLAGS, ...LOCKOUT_FLAGS])],
      async run(p, io) {
        const path = p.args[0];
        if (!path) throw new UsageError('Not enough arguments: expected PATH');
        const { config, ...rest } = tuneBody(p);
        await clientFrom(p).write(`${api}/${withSlash(path)}tune`, { ...rest, ...(config as object) });
        io.out(`Success! Tuned the ${noun} at: ${withSlash(path)}`);
        return 0;
      },
    }),
  ];
  if (kind === 'secrets') {
    cmds.push(
      defineCommand({
        name: 'secrets move',
        synopsis: 'Move a secrets engine to a new path',
        usage: 'Usage: coffer secrets move [options] SOURCE DESTINATION',
        flags: [...HTTP_FLAGS],
        async run(p, io) {
          const [from, to] = p.args;
          if (!from || !to) throw new UsageError('Not enough arguments: expected SOURCE DESTINATION');
          await clientFrom(p).write('sys/remount', { from: withSlash(from), to: withSlash(to) });
          io.out(`Success! Finished moving secrets engine ${withSlash(from)} to ${withSlash(to)}`);
          return 0;
        },
      }),
    );
  }
  return cmds;
}

export const mountCommands: Command[] = [...tableCommands('secrets'), ...tableCommands('auth')];

