import { badRequest } from '../../logical/index.js';
import { randomBase62 } from '../../util/index.js';

/** A failed revocation: kept in the lease, so lookup and the irrevocable list can say why. */
export interface RevokeFailure {
  readonly attempts: number;
  /** The revoke handler's message (the database's own words), never a secret. */
  readonly error: string;
  /** Milliseconds since the epoch of the next try; 0 once irrevocable. */
  readonly nextAttempt: number;
  /** True once the retries are spent: nothing tries again until an operator revokes it. */
  readonly irrevocable: boolean;
}

/** A lease as stored under sys/expire/. Times in milliseconds since the epoch. */
export interface LeaseEntry {
  readonly id: string;
  /** The request path that minted the secret ("database/creds/readonly"). */
  readonly path: string;
  /** The prefix of the mount that minted it ("database/"); the lease id starts with it. */
  readonly mount: string;
  /** Accessor of that mount, for per-mount counts. */
  readonly mountAccessor: string;
  readonly secretType: string;
  readonly internalData: Readonly<Record<string, unknown>>;
  /** Keyed hash of the token that asked for the secret; "" when none did. */
  readonly tokenHash: string;
  readonly issueTime: number;
  readonly expireTime: number;
  /** 0 when never renewed. */
  readonly lastRenewal: number;
  readonly renewable: boolean;
  readonly revoke?: RevokeFailure;
}

/** When the expiration manager next acts on the lease, or null for an irrevocable one. */
export function dueOf(entry: LeaseEntry): number | null {
  if (entry.revoke) return entry.revoke.irrevocable ? null : entry.revoke.nextAttempt;
  return entry.expireTime;
}

/** 24 base-62 characters, as Vault's lease ids end. */
export function randomLeaseSuffix(): string {
  return randomBase62(24);
}

const MAX_ID_LENGTH = 1024;

/**
 * Check a lease id or prefix a caller sent: printable, no empty, "." or ".." segments (which
 * would name another key than the one asked for). Names the field, never echoes the value.
 */
export function checkLeaseId(id: string, field: string, opts: { prefix?: boolean } = {}): string {
  const trimmed = opts.prefix && id.endsWith('/') ? id.slice(0, -1) : id;
  if (trimmed === '') throw badRequest(`missing ${field}`);
  if (id.length > MAX_ID_LENGTH) throw badRequest(`${field} is too long`);
  if (/[\u0000-\u001f\u007f]/.test(id) || trimmed.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw badRequest(`invalid ${field}`);
  }
  return id;
}

const HOUR = 3_600_000;

/** Storage keys under sys/expire/, in one place. */
export const keys = {
  entry: (id: string) => `id/${id}`,
  /** The expiry index: hour and second folders keep every list small; the leaf starts with the due time. */
  due: (id: string, due: number) =>
    `due/${String(Math.floor(due / HOUR)).padStart(10, '0')}/${String(Math.floor(due / 1000)).padStart(11, '0')}/${String(due).padStart(13, '0')}${encodeURIComponent(id)}`,
  token: (tokenHash: string, id: string) => `token/${tokenHash}/${encodeURIComponent(id)}`,
  irrevocable: (id: string) => `irrevocable/${encodeURIComponent(id)}`,
} as const;

/** The due time and lease id a leaf of the expiry index names. */
export function parseDueLeaf(leaf: string): { due: number; id: string } {
  return { due: Number(leaf.slice(0, 13)), id: decodeURIComponent(leaf.slice(13)) };
}
