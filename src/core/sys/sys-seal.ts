import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest, CofferError, type LogicalResponse } from '../../logical/index.js';
import { PgpKey } from '../../seal/index.js';
import { decodeStrictBase64 } from '../../util/index.js';
import type { SysDeps } from './sys-deps.js';

/**
 * The seal endpoints. Vault answers them outside its envelope (raw bodies), without a token,
 * and (but for sys/leader and sys/seal) while sealed; they still pass the one pipeline.
 */
export const SEALED_PATHS = ['init', 'seal-status', 'unseal', 'health'];
export const UNAUTHENTICATED_SEAL_PATHS = [...SEALED_PATHS, 'leader'];

/** Decode an unseal key share given as hex or base64, as Vault accepts it. */
export function decodeShare(key: string): Uint8Array {
  const k = key.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(k)) return Buffer.from(k, 'hex');
  const b64 = decodeStrictBase64(k);
  if (b64) return b64;
  throw badRequest("'key' must be a valid hex or base64 string");
}

function statusCode(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100 || n > 599) throw badRequest(`bad code for ${name}`);
  return n;
}

/** A count given as a number or a string of digits (init's secret_shares, secret_threshold). */
function count(v: unknown): number {
  return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? Number(v) : NaN;
}

const raw = (body: unknown, status?: number): LogicalResponse => ({ raw: body, ...(status !== undefined ? { httpStatus: status } : {}) });

const HEALTH_CODES = ['standbyok', 'perfstandbyok', 'activecode', 'standbycode', 'drsecondarycode', 'haunhealthycode', 'performancestandbycode', 'removedcode', 'sealedcode', 'uninitcode'];

export function sealPaths(deps: SysDeps): CompiledPath[] {
  const { lifecycle } = deps;
  const help = (synopsis: string) => ({ synopsis, description: synopsis });
  return [
    definePath({
      pattern: 'seal-status',
      fields: {},
      operations: { read: { summary: 'Report the seal state.', handler: async () => raw(await lifecycle.status()) } },
      help: help('Whether the server is initialised and sealed, and the unseal progress.'),
    }),
    definePath({
      pattern: 'init',
      fields: {
        secret_shares: field.raw({ description: 'Number of key shares to split the unseal key into.' }),
        secret_threshold: field.raw({ description: 'Number of key shares needed to unseal.' }),
        pgp_keys: field.raw({ description: 'Base64-encoded OpenPGP public keys, one per share: each share is returned encrypted to its holder.' }),
        root_token_pgp_key: field.string({ description: 'A base64-encoded OpenPGP public key the root token is returned encrypted to.' }),
        recovery_pgp_keys: field.raw({ description: 'Recovery PGP keys (auto-unseal seals only; coffer has none yet).' }),
      },
      operations: {
        read: { summary: 'Report whether the server is initialised.', handler: async () => raw({ initialized: (await lifecycle.status()).initialized }) },
        update: {
          summary: 'Initialise the server.',
          handler: async (_ctx, d) => {
            const recovery = d.recovery_pgp_keys;
            if (recovery !== undefined && recovery !== null && recovery !== '' && !(Array.isArray(recovery) && recovery.length === 0)) throw badRequest('recovery_pgp_keys is only for auto-unseal seals; this server uses Shamir shares');
            const secretShares = count(d.secret_shares);
            // Every key is checked before anything is made: a bad one leaves the server uninitialised.
            const pgp = d.pgp_keys === undefined || d.pgp_keys === null ? [] : await PgpKey.parseList(d.pgp_keys, 'pgp_keys');
            if (pgp.length > 0 && pgp.length !== secretShares) throw badRequest('incorrect number of PGP keys: give one for each of secret_shares');
            const rootPgp = d.root_token_pgp_key ? await PgpKey.parse(d.root_token_pgp_key, 'root_token_pgp_key') : null;
            const { keys, rootToken } = await lifecycle.initialize({ secretShares, secretThreshold: count(d.secret_threshold) });
            // As Vault does: a share is encrypted as its hex text, which is what `gpg -d` then prints.
            const handedOut = pgp.length ? await Promise.all(keys.map((k, i) => pgp[i]!.encrypt(Buffer.from(Buffer.from(k).toString('hex'))))) : keys;
            return raw({
              keys: handedOut.map((k) => Buffer.from(k).toString('hex')),
              keys_base64: handedOut.map((k) => Buffer.from(k).toString('base64')),
              root_token: rootPgp ? Buffer.from(await rootPgp.encrypt(Buffer.from(rootToken))).toString('base64') : rootToken,
            });
          },
        },
      },
      help: help('Initialise a new server: create the key shares and the root token.'),
    }),
    definePath({
      pattern: 'unseal',
      fields: {
        key: field.raw({ description: 'One key share, hex or base64.' }),
        reset: field.bool({ description: 'Discard the shares given so far.' }),
      },
      operations: {
        update: {
          summary: 'Submit a key share.',
          handler: async (_ctx, d) => {
            if (d.reset) {
              if (!lifecycle.isSealed()) throw badRequest('vault is unsealed');
              lifecycle.resetUnseal();
              return raw(await lifecycle.status());
            }
            if (typeof d.key !== 'string' || d.key === '') throw badRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
            return raw(await lifecycle.unseal(decodeShare(d.key)));
          },
        },
      },
      help: help('Submit one unseal key share; the server unseals at the threshold.'),
    }),
    definePath({
      pattern: 'health',
      fields: Object.fromEntries(HEALTH_CODES.map((c) => [c, field.raw({ description: 'Status code (or flag) for one server state.' })])),
      operations: {
        read: {
          summary: 'Report the server\'s health in the status code.',
          handler: async (ctx) => {
            const q = ctx.req.data;
            const s = await lifecycle.status();
            // Vault's health is a status report, not an error: the code names the state
            // (501 uninitialised, 503 sealed), and a caller may choose other codes.
            const status = !s.initialized ? statusCode(q['uninitcode'], 'uninitcode', 501) : s.sealed ? statusCode(q['sealedcode'], 'sealedcode', 503) : statusCode(q['activecode'], 'activecode', 200);
            // Codes for states coffer has not got yet (standby, DR secondary, performance standby)
            // cannot change the answer; they are still validated.
            for (const name of ['standbycode', 'drsecondarycode', 'performancestandbycode', 'removedcode', 'haunhealthycode']) statusCode(q[name], name, 200);
            return raw(
              {
                initialized: s.initialized,
                sealed: s.sealed,
                standby: false,
                performance_standby: false,
                replication_performance_mode: 'disabled',
                replication_dr_mode: 'disabled',
                server_time_utc: Math.floor(ctx.system.clock.now() / 1000),
                version: s.version,
                enterprise: false,
                cluster_name: s.cluster_name,
                cluster_id: s.cluster_id,
                echo_duration_ms: 0,
                clock_skew_ms: 0,
                removed_from_cluster: false,
              },
              status,
            );
          },
        },
      },
      help: help('Health of the server, for load balancers and orchestrators.'),
    }),
    definePath({
      pattern: 'leader',
      fields: {},
      operations: {
        read: {
          summary: 'Report the HA leader.',
          handler: async () => {
            if (lifecycle.isSealed()) throw new CofferError('sealed', 'Vault is sealed');
            return raw({
              ha_enabled: false,
              is_self: false,
              active_time: '0001-01-01T00:00:00Z',
              leader_address: '',
              leader_cluster_address: '',
              performance_standby: false,
              performance_standby_last_remote_wal: 0,
            });
          },
        },
      },
      help: help('The HA leader; coffer has no HA yet, so there is none.'),
    }),
    definePath({
      pattern: 'seal',
      fields: {},
      operations: {
        update: {
          summary: 'Seal the server.',
          handler: async () => {
            await lifecycle.seal();
            return null;
          },
        },
      },
      help: { synopsis: 'Seal the server.', description: 'Drops the keys from memory; unsealing needs the key shares again. Requires sudo.' },
    }),
  ];
}
