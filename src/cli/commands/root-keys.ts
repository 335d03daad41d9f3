import { readFileSync } from 'node:fs';
import { flagBool, flagString, UsageError, type ParsedArgs } from '../args.js';
import { clientFrom, defineCommand, FORMAT_FLAG, formatOf, HTTP_FLAGS, keyShareArg, type Io } from '../command.js';
import { pairs, render } from '../output.js';
import { decodeWithOtp, OTP_LENGTH, randomBase62 } from '../../util/index.js';



type Body = Record<string, unknown>;

/** The key share (keyShareArg), which these commands cannot go on without. */
async function shareFrom(p: ParsedArgs, io: Io): Promise<string> {
  const key = await keyShareArg(p, io);
  if (key === '') throw new UsageError('no key share was given');
  return key;
}

/**
 * A PGP public key file as the API takes it: base64 of the binary key. An armored file is sent as
 * it is (the server reads armor too), and a file that already holds base64 text as that text.
 */
export function pgpKeyFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read the PGP key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('-----BEGIN PGP')) return text;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) return text;
  return bytes.toString('base64');
}

function rootStatusText(s: Body): string {
  const rows: [string, string][] = [
    ['Nonce', String(s['nonce'] ?? '')],
    ['Started', String(s['started'] ?? false)],
    ['Progress', `${String(s['progress'] ?? 0)}/${String(s['required'] ?? 0)}`],
    ['Complete', String(s['complete'] ?? false)],
  ];
  if (s['pgp_fingerprint']) rows.push(['PGP Fingerprint', String(s['pgp_fingerprint'])]);
  if (s['encoded_token']) rows.push(['Encoded Token', String(s['encoded_token'])]);
  if (s['otp']) rows.push(['OTP', String(s['otp'])]);
  if (s['otp_length']) rows.push(['OTP Length', String(s['otp_length'])]);
  const warning = s['otp']
    ? 'A One-Time-Password has been generated for you and is shown in the OTP field. You will need\nthis value to decode the resulting root token, so keep it safe.\n'
    : '';
  return warning + pairs(rows);
}

export const operatorGenerateRootCommand = defineCommand({
  name: 'operator generate-root',
  synopsis: 'Generate a new root token from a quorum of key shares',
  usage: `Usage: coffer operator generate-root [options] [KEY]

  Generate a new root token by combining a quorum of key shares. Start with -init: the server
  makes a one-time password (OTP) and prints it once. Each share holder then runs the command with
  their share (without KEY it is read from the terminal without echo). The last one gets the
  encoded token, which -decode turns into the token with the OTP:

      $ coffer operator generate-root -init
      $ coffer operator generate-root
      $ coffer operator generate-root -decode=ENCODED -otp=OTP

  With -pgp-key=FILE the token is encrypted to that public key instead.`,
  flags: [
    ...HTTP_FLAGS,
    FORMAT_FLAG,
    { name: 'init', kind: 'bool', usage: 'Start a root token generation.' },
    { name: 'cancel', kind: 'bool', usage: 'Cancel the generation in progress, dropping the shares given (needs a token with sudo).' },
    { name: 'status', kind: 'bool', usage: 'Print the progress of the generation in progress.' },
    { name: 'generate-otp', kind: 'bool', usage: 'Print a one-time password fit for -init -otp.' },
    { name: 'decode', kind: 'string', usage: 'Decode this encoded token ("-" reads it from standard input) with -otp.' },
    { name: 'otp', kind: 'string', usage: 'The one-time password, for -init or -decode.' },
    { name: 'pgp-key', kind: 'string', usage: 'A file holding the OpenPGP public key to encrypt the new token to.' },
    { name: 'nonce', kind: 'string', usage: 'The nonce of the attempt (read from the server when absent).' },
  ],
  async run(p, io) {
    const format = formatOf(p);
    if (flagBool(p, 'generate-otp')) {
      io.out(randomBase62(OTP_LENGTH));
      return 0;
    }
    const decode = flagString(p, 'decode');
    if (decode !== '') {
      const otp = flagString(p, 'otp');
      if (otp === '') throw new UsageError('-decode needs the one-time password in -otp');
      const encoded = decode === '-' ? (await io.stdin()).trim() : decode;
      let token: string;
      try {
        token = decodeWithOtp(encoded, otp);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      io.out(format === 'table' ? token : render(format, { token }, () => token));
      return 0;
    }
    const client = clientFrom(p);
    const show = (s: Body) => io.out(render(format, s, () => rootStatusText(s)));
    if (flagBool(p, 'cancel')) {
      await client.request('DELETE', 'sys/generate-root/attempt');
      io.out('Success! Root token generation canceled (if it was started)');
      return 0;
    }
    if (flagBool(p, 'status')) {
      show((await client.request('GET', 'sys/generate-root/attempt')).body ?? {});
      return 0;
    }
    if (flagBool(p, 'init')) {
      const pgp = flagString(p, 'pgp-key');
      const body = { ...(flagString(p, 'otp') ? { otp: flagString(p, 'otp') } : {}), ...(pgp ? { pgp_key: pgpKeyFile(pgp) } : {}) };
      show((await client.write('sys/generate-root/attempt', body)).body ?? {});
      return 0;
    }
    let nonce = flagString(p, 'nonce');
    if (nonce === '') {
      const status = (await client.request('GET', 'sys/generate-root/attempt')).body ?? {};
      if (status['started'] !== true) throw new UsageError('no root token generation is in progress; start one with -init');
      nonce = String(status['nonce']);
    }
    const key = await shareFrom(p, io);
    show((await client.write('sys/generate-root/update', { key, nonce })).body ?? {});
    return 0;
  },
});

function rekeyStatusText(s: Body): string {
  const rows: [string, string][] = [
    ['Key', 'Value'],
    ['---', '-----'],
    ['Nonce', String(s['nonce'] || 'n/a')],
    ['Started', String(s['started'] ?? false)],
  ];
  if (s['started']) {
    rows.push(
      ['Rekey Progress', `${String(s['progress'] ?? 0)}/${String(s['required'] ?? 0)}${s['verification_nonce'] ? ' (verification in progress)' : ''}`],
      ['New Shares', String(s['n'] ?? 0)],
      ['New Threshold', String(s['t'] ?? 0)],
      ['Verification Required', String(s['verification_required'] ?? false)],
    );
    if (s['verification_nonce']) rows.push(['Verification Nonce', String(s['verification_nonce'])]);
  }
  const fingerprints = s['pgp_fingerprints'];
  if (Array.isArray(fingerprints) && fingerprints.length > 0) rows.push(['PGP Fingerprints', `[${fingerprints.join(' ')}]`], ['Backup', String(s['backup'] ?? false)]);
  return pairs(rows);
}

function verifyStatusText(s: Body): string {
  return pairs([
    ['Key', 'Value'],
    ['---', '-----'],
    ['Started', String(s['started'] ?? false)],
    ['New Shares', String(s['n'] ?? 0)],
    ['New Threshold', String(s['t'] ?? 0)],
    ['Verification Nonce', String(s['nonce'] || 'n/a')],
    ['Verification Progress', `${String(s['progress'] ?? 0)}/${String(s['t'] ?? 0)}`],
  ]);
}

/** The new shares, once: each with its holder's fingerprint when they are PGP-encrypted. */
function newKeysText(r: Body, threshold: number): string {
  const keys = (r['keys_base64'] as string[] | undefined) ?? [];
  const fingerprints = (r['pgp_fingerprints'] as string[] | null | undefined) ?? [];
  const n = keys.length;
  const lines = keys.map((k, i) => (fingerprints[i] ? `Key ${i + 1} fingerprint: ${fingerprints[i]}; value: ${k}` : `Key ${i + 1}: ${k}`));
  lines.push('', `Operation nonce: ${String(r['nonce'])}`, '');
  if (r['backup']) {
    lines.push(
      'The encrypted unseal keys are backed up to "core/unseal-keys-backup" in the storage backend.',
      'Remove them at any time with "coffer operator rekey -backup-delete". They are not removed',
      'automatically.',
      '',
    );
  }
  if (r['verification_required']) {
    lines.push(
      `The new key shares are not in force yet. Enter a threshold of them with`,
      `"coffer operator rekey -verify -nonce=${String(r['verification_nonce'])}"; until then the old shares still unseal.`,
    );
  } else {
    lines.push(
      `Vault unseal keys rekeyed with ${n} key shares and a key threshold of ${threshold}. Please securely`,
      'distribute the key shares printed above. When the server is re-sealed, restarted, or stopped,',
      `you must supply at least ${threshold} of these keys to unseal it before it can start servicing requests.`,
    );
  }
  return lines.join('\n');
}

export const operatorRekeyCommand = defineCommand({
  name: 'operator rekey',
  synopsis: 'Replace the unseal key and its key shares',
  usage: `Usage: coffer operator rekey [options] [KEY]

  Make a new unseal key, split into new key shares, from a quorum of the current shares. Stored
  data is not touched. Start with -init (and the new -key-shares and -key-threshold); each holder
  of a current share then runs the command with it. The last one gets the new shares, once.

      $ coffer operator rekey -init -key-shares=5 -key-threshold=3
      $ coffer operator rekey
      $ coffer operator rekey -verify      (with -init -verify: enter the new shares)`,
  flags: [
    ...HTTP_FLAGS,
    FORMAT_FLAG,
    { name: 'init', kind: 'bool', usage: 'Start a rekey.' },
    { name: 'cancel', kind: 'bool', usage: 'Cancel the rekey (or, with -verify, restart the verification); needs a token with sudo.' },
    { name: 'status', kind: 'bool', usage: 'Print the progress of the rekey (or, with -verify, of its verification).' },
    { name: 'key-shares', kind: 'int', usage: 'Number of new key shares.', default: '5' },
    { name: 'key-threshold', kind: 'int', usage: 'New shares needed to unseal.', default: '3' },
    { name: 'nonce', kind: 'string', usage: 'The nonce of the rekey or verification (read from the server when absent).' },
    { name: 'pgp-keys', kind: 'string', usage: 'Comma-separated files of OpenPGP public keys, one per new share.' },
    { name: 'backup', kind: 'bool', usage: 'Keep the PGP-encrypted new shares in storage (with -pgp-keys).' },
    { name: 'verify', kind: 'bool', usage: 'With -init: require verification of the new shares. Otherwise: enter a new share to verify.' },
    { name: 'backup-retrieve', kind: 'bool', usage: 'Print the backed-up PGP-encrypted shares (needs sudo).' },
    { name: 'backup-delete', kind: 'bool', usage: 'Delete the backed-up shares (needs sudo).' },
  ],
  async run(p, io) {
    const format = formatOf(p);
    const client = clientFrom(p);
    const verify = flagBool(p, 'verify');
    if (flagBool(p, 'backup-retrieve')) {
      const data = ((await client.request('GET', 'sys/rekey/backup')).body?.['data'] as Body | undefined) ?? {};
      io.out(render(format, data, () => pairs(Object.entries((data['keys_base64'] as Record<string, string[]> | undefined) ?? {}).map(([fp, keys]) => [fp, keys.join(', ')]))));
      return 0;
    }
    if (flagBool(p, 'backup-delete')) {
      await client.request('DELETE', 'sys/rekey/backup');
      io.out('Success! Deleted backed-up keys (if they existed)');
      return 0;
    }
    if (flagBool(p, 'cancel')) {
      await client.request('DELETE', verify ? 'sys/rekey/verify' : 'sys/rekey/init');
      io.out(verify ? 'Success! Rekey verification canceled; enter the new shares again under the new nonce' : 'Success! Canceled rekeying (if it was started)');
      return 0;
    }
    const path = verify && !flagBool(p, 'init') ? 'sys/rekey/verify' : 'sys/rekey/init';
    const statusText = path === 'sys/rekey/verify' ? verifyStatusText : rekeyStatusText;
    if (flagBool(p, 'status')) {
      const s = (await client.request('GET', path)).body ?? {};
      io.out(render(format, s, () => statusText(s)));
      return 0;
    }
    if (flagBool(p, 'init')) {
      const files = flagString(p, 'pgp-keys').split(',').filter((f) => f.trim() !== '');
      const s =
        (
          await client.write('sys/rekey/init', {
            secret_shares: Number(flagString(p, 'key-shares', '5')),
            secret_threshold: Number(flagString(p, 'key-threshold', '3')),
            ...(files.length ? { pgp_keys: files.map((f) => pgpKeyFile(f.trim())) } : {}),
            backup: flagBool(p, 'backup'),
            require_verification: verify,
          })
        ).body ?? {};
      io.out(render(format, s, () => rekeyStatusText(s)));
      return 0;
    }
    const status = (await client.request('GET', path)).body ?? {};
    if (status['started'] !== true) throw new UsageError(verify ? 'no rekey verification is in progress' : 'no rekey is in progress; start one with -init');
    const nonce = flagString(p, 'nonce') || String(status['nonce']);
    const key = await shareFrom(p, io);
    const r = (await client.write(verify ? 'sys/rekey/verify' : 'sys/rekey/update', { key, nonce })).body ?? {};
    if (verify) {
      if (r['complete']) io.out(render(format, r, () => 'Success! Rekey verification was successful. The rekey operation is complete and the new keys are now active.'));
      else {
        const progress = (await client.request('GET', path)).body ?? {};
        io.out(render(format, progress, () => verifyStatusText(progress)));
      }
      return 0;
    }
    io.out(render(format, r, () => (r['complete'] ? newKeysText(r, Number(status['t'])) : rekeyStatusText(r))));
    return 0;
  },
});
