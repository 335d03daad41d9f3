import { flagBool, flagString } from '../args.js';
import { clientFrom, defineCommand, FORMAT_FLAG, formatOf, HTTP_FLAGS, keyShareArg, OUTPUT_FLAGS, type Io } from '../command.js';
import { pairs, render, table } from '../output.js';
import { pgpKeyFile } from './root-keys.js';

function statusRows(s: Record<string, unknown>): [string, unknown][] {
  const rows: [string, unknown][] = [
    ['Seal Type', s['type']],
    ['Initialized', s['initialized']],
    ['Sealed', s['sealed']],
    ['Total Shares', s['n']],
    ['Threshold', s['t']],
  ];
  if (s['sealed']) rows.push(['Unseal Progress', `${s['progress']}/${s['t']}`], ['Unseal Nonce', s['nonce'] || 'n/a']);
  rows.push(['Version', s['version']], ['Storage Type', s['storage_type']]);
  if (s['cluster_name']) rows.push(['Cluster Name', s['cluster_name']], ['Cluster ID', s['cluster_id']]);
  rows.push(['HA Enabled', false]);
  return rows;
}

function printStatus(io: Io, format: ReturnType<typeof formatOf>, s: Record<string, unknown>): void {
  io.out(render(format, s, () => table(statusRows(s))));
}

export const statusCommand = defineCommand({
  name: 'status',
  synopsis: 'Print seal and HA status',
  usage: 'Usage: coffer status [options]\n\n  Print the seal status of the server. Exit code 0: unsealed, 1: error, 2: sealed.',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const s = (await clientFrom(p).request('GET', 'sys/seal-status')).body ?? {};
    printStatus(io, formatOf(p), s);
    return s['sealed'] ? 2 : 0;
  },
});

export const operatorInitCommand = defineCommand({
  name: 'operator init',
  synopsis: 'Initialise a server',
  usage: `Usage: coffer operator init [options]

  Initialise a new server: create the unseal key, split it into key shares, and create the
  initial root token. The shares and token are shown once; keep them safe and apart.`,
  flags: [
    ...HTTP_FLAGS,
    ...OUTPUT_FLAGS,
    { name: 'key-shares', kind: 'int', usage: 'Number of key shares to create.', default: '5' },
    { name: 'key-threshold', kind: 'int', usage: 'Shares needed to unseal.', default: '3' },
    { name: 'status', kind: 'bool', usage: 'Print whether the server is initialised; exit 0 if so, 2 if not.' },
    { name: 'pgp-keys', kind: 'string', usage: 'Comma-separated files of OpenPGP public keys, one per share: each share is printed encrypted to its key.' },
    { name: 'root-token-pgp-key', kind: 'string', usage: 'A file holding the OpenPGP public key to encrypt the root token to.' },
  ],
  async run(p, io) {
    const client = clientFrom(p);
    if (flagBool(p, 'status')) {
      const init = (await client.request('GET', 'sys/init')).body?.['initialized'] === true;
      io.out(init ? 'Vault is initialized' : 'Vault is not initialized');
      return init ? 0 : 2;
    }
    const shares = Number(flagString(p, 'key-shares', '5'));
    const threshold = Number(flagString(p, 'key-threshold', '3'));
    const pgpKeys = flagString(p, 'pgp-keys').split(',').filter((f) => f.trim() !== '').map((f) => pgpKeyFile(f.trim()));
    const rootKey = flagString(p, 'root-token-pgp-key');
    const body = { secret_shares: shares, secret_threshold: threshold, ...(pgpKeys.length ? { pgp_keys: pgpKeys } : {}), ...(rootKey ? { root_token_pgp_key: pgpKeyFile(rootKey) } : {}) };
    const res = (await client.write('sys/init', body)).body ?? {};
    const hex = res['keys'] as string[];
    const b64 = res['keys_base64'] as string[];
    const out = { unseal_keys_b64: b64, unseal_keys_hex: hex, unseal_shares: shares, unseal_threshold: threshold, recovery_keys_b64: [], recovery_keys_hex: [], recovery_keys_shares: 0, recovery_keys_threshold: 0, root_token: res['root_token'] };
    io.out(
      render(formatOf(p), out, () =>
        [
          ...b64.map((k, i) => `Unseal Key ${i + 1}: ${k}`),
          '',
          `Initial Root Token: ${String(res['root_token'])}`,
          '',
          `Vault initialized with ${shares} key shares and a key threshold of ${threshold}. Please securely`,
          'distribute the key shares printed above. When the server is re-sealed, restarted, or stopped,',
          `you must supply at least ${threshold} of these keys to unseal it before it can start`,
          'servicing requests.',
        ].join('\n'),
      ),
    );
    return 0;
  },
});

export const operatorUnsealCommand = defineCommand({
  name: 'operator unseal',
  synopsis: 'Unseal a server with one key share',
  usage: `Usage: coffer operator unseal [options] [KEY]

  Provide one unseal key share. Without KEY, it is read from the terminal without echo.
  Run it once per share until the threshold is reached.`,
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'reset', kind: 'bool', usage: 'Discard the shares given so far.' }],
  async run(p, io) {
    const client = clientFrom(p);
    let body: Record<string, unknown>;
    if (flagBool(p, 'reset')) body = { reset: true };
    else body = { key: await keyShareArg(p, io) };
    const s = (await client.write('sys/unseal', body)).body ?? {};
    printStatus(io, formatOf(p), s);
    return 0;
  },
});

export const operatorSealCommand = defineCommand({
  name: 'operator seal',
  synopsis: 'Seal the server',
  usage: 'Usage: coffer operator seal [options]\n\n  Seal the server: keys leave memory and every request is refused until it is unsealed. Requires sudo.',
  flags: [...HTTP_FLAGS],
  async run(p, io) {
    await clientFrom(p).write('sys/seal', {});
    io.out('Success! Vault is sealed.');
    return 0;
  },
});


/** Go's "02 Jan 06 15:04 MST", the time Vault's CLI shows a key's install time in. */
function goTime(iso: string): string {
  const d = new Date(iso);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())} ${months[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** Vault's key status lines: label and value in two columns, no header. */
function keyStatusTable(s: Record<string, unknown>): string {
  const rows: [string, string][] = [
    ['Key Term', String(s['term'] ?? '')],
    ['Install Time', goTime(String(s['install_time'] ?? ''))],
    ['Encryption Count', String(s['encryptions'] ?? 0)],
  ];
  return pairs(rows);
}


async function keyStatus(client: ReturnType<typeof clientFrom>): Promise<Record<string, unknown>> {
  return ((await client.request('GET', 'sys/key-status')).body?.['data'] as Record<string, unknown> | undefined) ?? {};
}

export const operatorRotateCommand = defineCommand({
  name: 'operator rotate',
  synopsis: 'Rotate the barrier encryption key',
  usage: 'Usage: coffer operator rotate [options]\n\n  Install a new encryption key for everything written from now on; older keys still decrypt\n  what they wrote. Online, and requires sudo.',
  flags: [...HTTP_FLAGS, FORMAT_FLAG],
  async run(p, io) {
    const client = clientFrom(p);
    await client.write('sys/rotate', {});
    const status = await keyStatus(client);
    io.out(render(formatOf(p), status, () => `Success! Rotated key\n\n${keyStatusTable(status)}`));
    return 0;
  },
});

export const operatorKeyStatusCommand = defineCommand({
  name: 'operator key-status',
  synopsis: 'Show the barrier encryption key\'s status',
  usage: 'Usage: coffer operator key-status [options]\n\n  The active key term, when it was installed, and how many values it has encrypted.',
  flags: [...HTTP_FLAGS, FORMAT_FLAG],
  async run(p, io) {
    const status = await keyStatus(clientFrom(p));
    io.out(render(formatOf(p), status, () => keyStatusTable(status)));
    return 0;
  },
});
