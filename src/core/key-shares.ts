/**
 * What generate-root and rekey need of the seal: the threshold that proves a quorum, a check of
 * one submitted share, and the root key that a full set of shares reconstructs.
 */
export interface ShareAuthority {
  /** The current seal's threshold: shares needed for a quorum. */
  threshold(): Promise<number>;
  /** Refuse a share that cannot belong to the current seal (its length is wrong). */
  checkShare(share: Uint8Array): Promise<void>;
  /** The root key the shares reconstruct; a 400 when they do not reconstruct the unseal key. */
  rootKeyFrom(shares: readonly Uint8Array[]): Promise<Uint8Array>;
}

/** Wipe every share given. */
export function wipe(shares: readonly Uint8Array[]): void {
  for (const s of shares) s.fill(0);
}
