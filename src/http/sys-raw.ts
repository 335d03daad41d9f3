import type { Core } from '../core/index.js';
import { badRequest, CofferError } from '../logical/index.js';
import { decodeStrictBase64 } from '../util/base64.js';
import { errors, type HttpResponse } from './wire.js';

/**
 * The sys endpoints Vault serves outside the logical pipeline, with raw (un-enveloped) bodies:
 * they work while sealed and without a token.
 */
export const RAW_SYS_PATHS = new Set(['sys/init', 'sys/seal-status', 'sys/unseal', 'sys/health', 'sys/leader']);

function parseCode(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100 || n > 599) throw badRequest(`bad code for ${name}`);
  return n;
}

/** Decode an unseal key share given as hex or base64, as Vault accepts it. */
export function decodeShare(key: string): Uint8Array {
  const k = key.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(k)) return Buffer.from(k, 'hex');
  const b64 = decodeStrictBase64(k);
  if (b64) return b64;
  throw badRequest("'key' must be a valid hex or base64 string");
}

export async function handleRawSys(
  core: Core,
  path: string,
  method: string,
  query: URLSearchParams,
  body: () => Record<string, unknown>,
): Promise<HttpResponse> {
  const isRead = method === 'GET' || method === 'HEAD';
  const isWrite = method === 'PUT' || method === 'POST';
  switch (path) {
    case 'sys/seal-status':
      if (!isRead) break;
      return { status: 200, body: await core.status() };
    case 'sys/leader': {
      if (!isRead) break;
      if (core.sealed) throw new CofferError('sealed', 'Vault is sealed');
      return {
        status: 200,
        body: {
          ha_enabled: false,
          is_self: false,
          active_time: '0001-01-01T00:00:00Z',
          leader_address: '',
          leader_cluster_address: '',
          performance_standby: false,
          performance_standby_last_remote_wal: 0,
        },
      };
    }
    case 'sys/health': {
      if (!isRead) break;
      const s = await core.status();
      const status = !s.initialized
        ? parseCode(query, 'uninitcode', 501)
        : s.sealed
          ? parseCode(query, 'sealedcode', 503)
          : parseCode(query, 'activecode', 200);
      // Codes (and standbyok) for states coffer does not have yet (standby, DR secondary,
      // performance standby) cannot change the answer; the codes are still validated.
      for (const name of ['standbycode', 'drsecondarycode', 'performancestandbycode', 'removedcode']) parseCode(query, name, 200);
      const health = {
        initialized: s.initialized,
        sealed: s.sealed,
        standby: false,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(Date.now() / 1000),
        version: s.version,
        enterprise: false,
        cluster_name: s.cluster_name,
        cluster_id: s.cluster_id,
        echo_duration_ms: 0,
        clock_skew_ms: 0,
        removed_from_cluster: false,
      };
      return method === 'HEAD' ? { status } : { status, body: health };
    }
    case 'sys/init': {
      if (isRead) return { status: 200, body: { initialized: (await core.status()).initialized } };
      if (!isWrite) break;
      const b = body();
      for (const unsupported of ['pgp_keys', 'root_token_pgp_key', 'recovery_pgp_keys']) {
        const v = b[unsupported];
        if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) {
          throw badRequest(`${unsupported} is not supported`);
        }
      }
      const count = (v: unknown): number => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? Number(v) : NaN);
      const shares = count(b['secret_shares']);
      const threshold = count(b['secret_threshold']);
      const { keys, rootToken } = await core.initialize({ secretShares: shares, secretThreshold: threshold });
      return {
        status: 200,
        body: {
          keys: keys.map((k) => Buffer.from(k).toString('hex')),
          keys_base64: keys.map((k) => Buffer.from(k).toString('base64')),
          root_token: rootToken,
        },
      };
    }
    case 'sys/unseal': {
      if (!isWrite) break;
      const b = body();
      if (b['reset'] === true || b['reset'] === 'true') {
        if (!core.sealed) throw badRequest('vault is unsealed');
        core.resetUnseal();
        return { status: 200, body: await core.status() };
      }
      if (typeof b['key'] !== 'string' || b['key'] === '') {
        throw badRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
      }
      return { status: 200, body: await core.unseal(decodeShare(b['key'])) };
    }
    default:
      break;
  }
  return errors(405, 'unsupported operation');
}
