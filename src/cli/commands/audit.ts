import { flagBool, flagString, UsageError } from '../args.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, parseKvArgs, withSlash, type Command } from '../command.js';
import { columns, render } from '../output.js';

type Devices = Record<string, Record<string, unknown>>;

/** Vault's `audit list` table; -detailed adds replication and options. */
function listTable(devices: Devices, detailed: boolean): string {
  const rows = Object.keys(devices).sort().map((path) => {
    const d = devices[path]!;
    const description = String(d['description'] ?? '') || 'n/a';
    if (!detailed) return [path, String(d['type'] ?? ''), description];
    const options = Object.entries((d['options'] as Record<string, string> | null) ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    return [path, String(d['type'] ?? ''), description, d['local'] === true ? 'local' : 'replicated', options];
  });
  const head = detailed ? ['Path', 'Type', 'Description', 'Replication', 'Options'] : ['Path', 'Type', 'Description'];
  return columns([head, ...rows]);
}

export const auditCommands: Command[] = [
  defineCommand({
    name: 'audit enable',
    synopsis: 'Enable an audit device',
    usage:
      'Usage: coffer audit enable [options] TYPE [CONFIG K=V...]\n\n  Enable an audit device of TYPE (file, syslog, socket) at -path (default: the type name).\n\n' +
      '      $ coffer audit enable file file_path=/var/log/coffer/audit.log\n      $ coffer audit enable syslog tag="vault" facility="AUTH"',
    flags: [
      ...HTTP_FLAGS,
      { name: 'description', kind: 'string', usage: 'Human-friendly description.' },
      { name: 'path', kind: 'string', usage: 'Where to enable the device (default: the type name).' },
      { name: 'local', kind: 'bool', usage: 'Keep the device on this cluster only (not replicated).' },
    ],
    async run(p, io) {
      const [type, ...config] = p.args;
      if (!type) throw new UsageError('Not enough arguments: expected TYPE');
      const path = withSlash(flagString(p, 'path') || type);
      const options = await parseKvArgs(config, io);
      await clientFrom(p).write(`sys/audit/${path}`, { type, description: flagString(p, 'description'), options, local: flagBool(p, 'local') });
      io.out(`Success! Enabled the ${type} audit device at: ${path}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'audit disable',
    synopsis: 'Disable an audit device',
    usage: 'Usage: coffer audit disable [options] PATH\n\n  Disable the audit device at PATH. What it wrote stays where it is.',
    flags: [...HTTP_FLAGS],
    async run(p, io) {
      const path = p.args[0];
      if (!path) throw new UsageError('Not enough arguments: expected PATH');
      await clientFrom(p).delete(`sys/audit/${withSlash(path)}`);
      io.out(`Success! Disabled audit device (if it was enabled) at: ${withSlash(path)}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'audit list',
    synopsis: 'List enabled audit devices',
    usage: 'Usage: coffer audit list [options]',
    flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'detailed', kind: 'bool', usage: 'Show replication and options too.' }],
    async run(p, io) {
      const body = (await clientFrom(p).request('GET', 'sys/audit')).body ?? {};
      const devices = (body['data'] as Devices | undefined) ?? {};
      const format = formatOf(p);
      if (Object.keys(devices).length === 0 && format === 'table') {
        io.out('No audit devices are enabled.');
        return 2;
      }
      io.out(render(format, devices, () => listTable(devices, flagBool(p, 'detailed'))));
      return 0;
    },
  }),
];
