import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../args.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, type Io } from '../command.js';
import { render } from '../output.js';
import { formatHcl } from '../../hcl/index.js';
import { parsePolicy } from '../../core/index.js';

async function readSource(src: string, io: Io): Promise<string> {
  return src === '-' ? io.stdin() : readFileSync(src, 'utf8');
}

export const policyCommands = [
  defineCommand({
    name: 'policy write',
    synopsis: 'Upload a policy',
    usage: 'Usage: coffer policy write [options] NAME PATH\n\n  Write the policy in the file PATH (or - for stdin) under NAME.\n\n      $ coffer policy write app app.hcl',
    flags: [...HTTP_FLAGS],
    async run(p, io) {
      const [name, src] = p.args;
      if (!name || !src) throw new UsageError('Not enough arguments: expected NAME PATH');
      await clientFrom(p).write(`sys/policies/acl/${encodeURIComponent(name)}`, { policy: await readSource(src, io) });
      io.out(`Success! Uploaded policy: ${name}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'policy read',
    synopsis: 'Print a policy',
    usage: 'Usage: coffer policy read [options] NAME',
    flags: [...HTTP_FLAGS, { name: 'format', kind: 'string', usage: 'Print as "table", "json" or "yaml".' }],
    async run(p, io) {
      const name = p.args[0];
      if (!name) throw new UsageError('Not enough arguments: expected NAME');
      const body = await clientFrom(p).read(`sys/policies/acl/${encodeURIComponent(name)}`);
      if (!body) {
        io.err(`No policy named: ${name}`);
        return 2;
      }
      const d = body['data'] as Record<string, unknown>;
      io.out(render(formatOf(p), body, () => String(d['policy'] ?? '').replace(/\n$/, '')));
      return 0;
    },
  }),
  defineCommand({
    name: 'policy list',
    synopsis: 'List policies',
    usage: 'Usage: coffer policy list [options]',
    flags: [...HTTP_FLAGS, { name: 'format', kind: 'string', usage: 'Print as "table", "json" or "yaml".' }],
    async run(p, io) {
      const body = await clientFrom(p).list('sys/policies/acl');
      const keys = ((body?.['data'] as Record<string, unknown> | undefined)?.['keys'] as string[]) ?? [];
      io.out(render(formatOf(p), keys, () => keys.join('\n')));
      return 0;
    },
  }),
  defineCommand({
    name: 'policy delete',
    synopsis: 'Delete a policy',
    usage: 'Usage: coffer policy delete [options] NAME',
    flags: [...HTTP_FLAGS],
    async run(p, io) {
      const name = p.args[0];
      if (!name) throw new UsageError('Not enough arguments: expected NAME');
      await clientFrom(p).delete(`sys/policies/acl/${encodeURIComponent(name)}`);
      io.out(`Success! Deleted policy: ${name}`);
      return 0;
    },
  }),
  defineCommand({
    name: 'policy fmt',
    synopsis: 'Format a policy file in place',
    usage: 'Usage: coffer policy fmt PATH\n\n  Check that the policy file at PATH is valid and rewrite it in canonical layout, comments kept.',
    flags: [],
    async run(p, io) {
      const file = p.args[0];
      if (!file) throw new UsageError('Not enough arguments: expected PATH');
      const text = readFileSync(file, 'utf8');
      parsePolicy('fmt', text);
      writeFileSync(file, formatHcl(text));
      io.out(`Success! Formatted policy: ${file}`);
      return 0;
    },
  }),
];
