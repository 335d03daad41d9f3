import { VERSION } from '../util/index.js';
import { UsageError } from './args.js';
import { ApiError } from './client.js';
import { parse, type Command, type Io } from './command.js';
import { auditCommands } from './commands/audit.js';
import { deleteCommand, listCommand, patchCommand, readCommand, unwrapCommand, writeCommand } from './commands/generic.js';
import { kvCommands } from './commands/kv.js';
import { leaseCommands } from './commands/lease.js';
import { mountCommands } from './commands/mounts.js';
import { operatorGenerateRootCommand, operatorRekeyCommand } from './commands/root-keys.js';
import { snapshotCommands } from './commands/snapshot.js';
import { operatorInitCommand, operatorKeyStatusCommand, operatorRotateCommand, operatorSealCommand, operatorUnsealCommand, statusCommand } from './commands/operator.js';
import { policyCommands } from './commands/policy.js';
import { serverCommand } from './commands/server.js';
import { loginCommand, tokenCapabilitiesCommand, tokenCreateCommand, tokenLookupCommand, tokenRenewCommand, tokenRevokeCommand } from './commands/token.js';

export const COMMANDS: readonly Command[] = [
  serverCommand, statusCommand, operatorInitCommand, operatorUnsealCommand, operatorSealCommand, operatorRotateCommand, operatorKeyStatusCommand, operatorGenerateRootCommand, operatorRekeyCommand, ...snapshotCommands, loginCommand,
  tokenCreateCommand, tokenLookupCommand, tokenRenewCommand, tokenRevokeCommand, tokenCapabilitiesCommand,
  readCommand, writeCommand, listCommand, deleteCommand, patchCommand, unwrapCommand,
  ...kvCommands, ...policyCommands, ...mountCommands, ...leaseCommands, ...auditCommands,
];

function helpText(prefix: string): string {
  const cmds = COMMANDS.filter((c) => prefix === '' || c.name.startsWith(`${prefix} `));
  const width = Math.max(...cmds.map((c) => c.name.length - (prefix ? prefix.length + 1 : 0)));
  const lines = cmds.map((c) => `    ${c.name.slice(prefix ? prefix.length + 1 : 0).padEnd(width)}    ${c.synopsis}`);
  return `Usage: coffer ${prefix ? `${prefix} ` : ''}<command> [args]\n\n${prefix ? 'Subcommands' : 'Commands'}:\n${lines.join('\n')}\n\nRun "coffer ${prefix ? `${prefix} ` : ''}<command> -h" for a command's flags.`;
}

function commandHelp(c: Command): string {
  const flags = c.flags.map((f) => `  -${f.name}${f.kind === 'bool' ? '' : `=<${f.kind}>`}\n      ${f.usage}${f.default ? ` Default: ${f.default}.` : ''}`);
  return `${c.usage}\n${flags.length ? `\nFlags:\n\n${flags.join('\n\n')}` : ''}`;
}

/** Run the CLI; returns the exit code (0 ok, 1 error, 2 usage or "not found", as Vault's). */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  if (argv.length === 0 || ['help', '-h', '-help', '--help'].includes(argv[0]!)) {
    const topic = argv.slice(1).join(' ');
    const c = COMMANDS.find((x) => x.name === topic);
    io.out(c ? commandHelp(c) : helpText(topic));
    return argv.length === 0 ? 127 : 0;
  }
  if (argv[0] === 'version' || argv[0] === '-version' || argv[0] === '--version') {
    io.out(`coffer v${VERSION}`);
    return 0;
  }
  // The longest command name that prefixes argv ("kv metadata get" before "kv").
  let match: Command | undefined;
  let words = 0;
  for (const c of COMMANDS) {
    const parts = c.name.split(' ');
    if (parts.length > words && parts.every((w, i) => argv[i] === w)) {
      match = c;
      words = parts.length;
    }
  }
  if (!match) {
    const group: string[] = [];
    for (const w of argv) {
      if (!COMMANDS.some((c) => c.name.startsWith(`${[...group, w].join(' ')} `))) break;
      group.push(w);
    }
    const next = argv[group.length];
    const asksHelp = next === '-h' || next === '-help' || next === '--help';
    // "coffer kv -h": that group's subcommands. "coffer kv": the same, as a usage error.
    if (group.length && (next === undefined || asksHelp)) {
      (asksHelp ? io.out : io.err)(helpText(group.join(' ')));
      return asksHelp ? 0 : 1;
    }
    // An unknown word is named in one line, not answered with a page of usage.
    io.err(
      group.length
        ? `Unknown subcommand "${next}" of "coffer ${group.join(' ')}". Run "coffer ${group.join(' ')} -h" for its subcommands.`
        : `Unknown command "${argv[0]}". Run "coffer help" for the list of commands.`,
    );
    return 127;
  }
  const rest = argv.slice(words);
  if (rest.some((a) => a === '-h' || a === '-help' || a === '--help')) {
    io.out(commandHelp(match));
    return 0;
  }
  try {
    return await match.run(parse(match, rest), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${commandHelp(match)}`);
      return 1;
    }
    // As Vault's CLI: 1 for an error here (usage, local files), 2 for one the server answered.
    if (e instanceof ApiError) {
      io.err(e.message);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    // A TLS client answered in plain HTTP: the address says https:// but the listener has no TLS.
    if (err.code === 'EPROTO' && /wrong version number/.test(err.message)) {
      io.err('Error: http: server gave HTTP response to HTTPS client\n\nThe address is https:// but the listener answers plain HTTP: use an http:// address (COFFER_ADDR or -address), or enable TLS on the listener.');
      return 1;
    }
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EPROTO') {
      io.err(`Error: cannot reach the server: ${err.message}`);
      return 1;
    }
    io.err(`Error: ${err instanceof Error ? err.message : String(e)}`);
    return 1;
  }
}
