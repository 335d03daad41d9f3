import { readFileSync } from 'node:fs';
import { flagBool, flagString, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { Client, env, readTokenFile } from './client.js';
import { formatValue, humanDuration, parseFormat, render, sortedRows, table, type Format } from './output.js';

/** The I/O a command may use; tests substitute their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input. */
  stdin(): Promise<string>;
  /** Ask on the terminal; `hidden` turns echo off (keys, tokens). */
  prompt(question: string, hidden: boolean): Promise<string>;
}

export interface Command {
  readonly name: string;
  readonly synopsis: string;
  readonly usage: string;
  readonly flags: readonly FlagSpec[];
  run(p: ParsedArgs, io: Io): Promise<number>;
}

export const HTTP_FLAGS: readonly FlagSpec[] = [
  { name: 'address', kind: 'string', usage: 'Address of the server (COFFER_ADDR, VAULT_ADDR). Default: https://127.0.0.1:8200.' },
  { name: 'ca-cert', kind: 'string', usage: 'PEM CA certificate to verify the server (COFFER_CACERT, VAULT_CACERT).' },
  { name: 'tls-skip-verify', kind: 'bool', usage: 'Do not verify the server certificate. Insecure.' },
  { name: 'namespace', kind: 'string', usage: 'Accepted for compatibility; coffer has no namespaces.' },
  { name: 'wrap-ttl', kind: 'string', usage: 'Answer with a wrapping token valid this long ("5m", or seconds) instead of the response (COFFER_WRAP_TTL, VAULT_WRAP_TTL).' },
];

/** -format alone, for commands that print a table but have no single field to pick. */
export const FORMAT_FLAG: FlagSpec = { name: 'format', kind: 'string', usage: 'Print as "table", "json" or "yaml" (COFFER_FORMAT, VAULT_FORMAT).' };

export const OUTPUT_FLAGS: readonly FlagSpec[] = [
  FORMAT_FLAG,
  { name: 'field', kind: 'string', usage: 'Print only this field, raw.' },
];

export function clientFrom(p: ParsedArgs): Client {
  const address = flagString(p, 'address') || env('ADDR') || 'https://127.0.0.1:8200';
  const token = env('TOKEN') || readTokenFile();
  const skip = flagBool(p, 'tls-skip-verify') || ['1', 'true'].includes(env('SKIP_VERIFY'));
  const wrapTtl = flagString(p, 'wrap-ttl') || env('WRAP_TTL');
  return new Client({ address, token, caCert: flagString(p, 'ca-cert') || env('CACERT'), skipVerify: skip, ...(wrapTtl ? { wrapTtl } : {}) });
}

/**
 * The key share a command was given: its argument, "-" for standard input, or asked for on the
 * terminal without echo. "" when none was given at the prompt either.
 */
export async function keyShareArg(p: ParsedArgs, io: Io): Promise<string> {
  if (p.args.length > 1) throw new UsageError('too many arguments: expected at most one key');
  let key = p.args[0] ?? '';
  if (key === '-') key = (await io.stdin()).trim();
  if (key === '') key = (await io.prompt('Unseal Key (will be hidden): ', true)).trim();
  return key;
}

/** A mount or device path as the API names it: "kv" and "/kv" are "kv/". */
export const withSlash = (p: string): string => (p.endsWith('/') ? p : `${p}/`).replace(/^\/+/, '');

export function formatOf(p: ParsedArgs): Format {
  return parseFormat(flagString(p, 'format'));
}

/** Parse `key=value`, `key=@file`, `key=-` (stdin) and a lone `-` (a JSON object on stdin). */
export async function parseKvArgs(args: readonly string[], io: Io): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const arg of args) {
    if (arg === '-') {
      const parsed: unknown = JSON.parse(await io.stdin());
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('stdin must hold a JSON object');
      Object.assign(data, parsed);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid key/value pair "${arg}": expected key=value`);
    const key = arg.slice(0, eq);
    let value = arg.slice(eq + 1);
    if (value.startsWith('@')) value = readFileSync(value.slice(1), 'utf8');
    else if (value === '-') value = await io.stdin();
    data[key] = value;
  }
  return data;
}

/** A wrapped response's wrap_info as Vault's CLI names it (table keys end in ":", -field takes them without). */
function wrapFields(body: Record<string, unknown>): Record<string, unknown> | null {
  const w = body['wrap_info'];
  if (typeof w !== 'object' || w === null) return null;
  const info = w as Record<string, unknown>;
  return {
    wrapping_token: info['token'],
    wrapping_accessor: info['accessor'],
    wrapping_token_ttl: humanDuration(Number(info['ttl'] ?? 0)),
    wrapping_token_creation_time: info['creation_time'],
    wrapping_token_creation_path: info['creation_path'],
    ...(info['wrapped_accessor'] ? { wrapped_accessor: info['wrapped_accessor'] } : {}),
  };
}

/** Print an API response the way `vault read` does, honouring -format and -field. */
export function printSecret(io: Io, p: ParsedArgs, body: Record<string, unknown>, data: Record<string, unknown> | null): number {
  const field = flagString(p, 'field');
  const wrapped = wrapFields(body);
  if (wrapped) {
    if (field) {
      if (!(field in wrapped)) {
        io.err(`Field "${field}" not present in secret`);
        return 1;
      }
      io.out(String(wrapped[field]));
      return 0;
    }
    io.out(render(formatOf(p), body, () => table(Object.entries(wrapped).map(([k, v]) => [`${k}:`, v]))));
    return 0;
  }
  if (field) {
    const src = { ...(data ?? {}), ...authRows(body) };
    if (!(field in src)) {
      io.err(`Field "${field}" not present in secret`);
      return 1;
    }
    const v = src[field];
    io.out(typeof v === 'string' ? v : formatValue(v));
    return 0;
  }
  io.out(
    render(formatOf(p), body, () => {
      const rows: [string, unknown][] = [];
      const lease = Number(body['lease_duration'] ?? 0);
      // Vault's order: lease_id, lease_duration, lease_renewable; a lease-less TTL is a refresh interval.
      if (body['lease_id']) rows.push(['lease_id', body['lease_id']], ['lease_duration', humanDuration(lease)], ['lease_renewable', body['renewable']]);
      else if (lease > 0) rows.push(['refresh_interval', humanDuration(lease)]);
      rows.push(...Object.entries(authRows(body)));
      if (data) rows.push(...sortedRows(data));
      const warnings = Array.isArray(body['warnings']) ? (body['warnings'] as string[]) : [];
      const text = table(rows);
      return warnings.length ? `WARNING! The following warnings were returned from the server:\n${warnings.map((w) => `  * ${w}`).join('\n')}\n\n${text}` : text;
    }),
  );
  return 0;
}

/** The token fields Vault prints for a response with an auth block. */
export function authRows(body: Record<string, unknown>): Record<string, unknown> {
  const a = body['auth'] as Record<string, unknown> | null | undefined;
  if (!a) return {};
  return {
    token: a['client_token'],
    token_accessor: a['accessor'],
    // A token without a TTL (root) never expires: Vault prints that as ∞.
    token_duration: Number(a['lease_duration'] ?? 0) > 0 ? humanDuration(Number(a['lease_duration'])) : '∞',
    token_renewable: a['renewable'],
    token_policies: a['token_policies'],
    identity_policies: a['identity_policies'] ?? [],
    policies: a['policies'],
    // Vault prints each metadata entry as its own row: token_meta_username alice.
    ...Object.fromEntries(Object.entries((a['metadata'] as Record<string, unknown> | null | undefined) ?? {}).map(([k, v]) => [`token_meta_${k}`, v])),
  };
}

export function defineCommand(c: Command): Command {
  return c;
}

export function parse(c: Command, argv: readonly string[]): ParsedArgs {
  return parseArgs(argv, c.flags);
}
