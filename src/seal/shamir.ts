import { combine, split } from 'shamir-secret-sharing';
import { badRequest } from '../logical/index.js';

/**
 * Shamir splitting over GF(2^8) by an independently audited library. Shares use Vault's layout:
 * the y-bytes followed by one x-coordinate byte, so a 32-byte key gives 33-byte shares. A single
 * share (1 of 1) is the key itself, as in Vault.
 */
export async function splitKey(key: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (shares === 1) return [Uint8Array.from(key)];
  // The library insists on plain Uint8Arrays, not Node Buffers.
  return split(new Uint8Array(key), shares, threshold);
}

export async function combineShares(shares: readonly Uint8Array[]): Promise<Uint8Array> {
  if (shares.length === 1) return Uint8Array.from(shares[0]!);
  return combine(shares.map((s) => new Uint8Array(s)));
}

/** A share's length in a seal of this many shares: Vault's 33 bytes, or the 32-byte key itself for one. */
export function checkShareLength(secretShares: number, share: Uint8Array): void {
  const expected = secretShares === 1 ? 32 : 33;
  if (share.length !== expected) throw badRequest(`invalid key share: it is ${share.length} bytes, expected ${expected}`);
}
