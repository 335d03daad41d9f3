import { randomUUID, timingSafeEqual } from 'node:crypto';
import { badRequest, type StorageOp } from '../logical/index.js';
import { checkShareLength, combineShares, KeyShares, validateSealConfig, type PgpKey, type PreparedSeal, type SealConfig } from '../seal/index.js';
import type { TxOp } from '../storage/index.js';
import { type ShareAuthority, wipe } from './key-shares.js';

/** Where a rekey keeps the PGP-encrypted new shares when asked to (inside the barrier). */
export const BACKUP_PATH = 'core/unseal-keys-backup';

/** sys/rekey/init's status, in Vault's shape. */
export interface RekeyStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly required: number;
  readonly pgp_fingerprints: string[] | null;
  readonly backup: boolean;
  readonly verification_required: boolean;
  readonly verification_nonce?: string;
}

/** The answer to the share that completes a rekey: the new shares, shown once. */
export interface RekeyResult {
  readonly complete: true;
  readonly nonce: string;
  readonly keys: string[];
  readonly keys_base64: string[];
  readonly pgp_fingerprints: string[] | null;
  readonly backup: boolean;
  readonly verification_required: boolean;
  readonly verification_nonce?: string;
}

export interface RekeyVerifyStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
}

export interface RekeyBackup {
  readonly nonce: string;
  readonly keys: Record<string, string[]>;
  readonly keys_base64: Record<string, string[]>;
}

interface Verification {
  readonly nonce: string;
  readonly prepared: PreparedSeal;
  readonly backup: RekeyBackup | null;
  shares: KeyShares;
}

interface Attempt {
  readonly nonce: string;
  readonly config: SealConfig;
  readonly pgp: readonly PgpKey[];
  readonly backup: boolean;
  readonly verify: boolean;
  readonly shares: KeyShares;
  verification: Verification | null;
}

export interface RekeyDeps {
  readonly seal: ShareAuthority;
  /** A new unseal key for the root key, split as config says (ShamirSeal.prepareRekey). */
  prepare(rootKey: Uint8Array, config: SealConfig): Promise<PreparedSeal>;
  /** Write the barrier ops and the seal's own records in one transaction. */
  commit(ops: readonly StorageOp[], seal: readonly TxOp[]): Promise<void>;
}

const fingerprints = (keys: readonly PgpKey[]): string[] | null => (keys.length ? keys.map((k) => k.fingerprint) : null);

/**
 * A rekey: a quorum of the current shares replaces the unseal key (and so every share, their
 * number and threshold) without touching the root key or any stored value. The new seal records
 * and the backup of the new shares commit in one storage transaction, so a crash at any moment
 * leaves either the old key set or the new one, never both or neither. With verification, the
 * old set stays in force until a threshold of the new shares has been entered.
 */
export class Rekey {
  readonly #deps: RekeyDeps;
  #attempt: Attempt | null = null;

  constructor(deps: RekeyDeps) {
    this.#deps = deps;
  }

  async status(): Promise<RekeyStatus> {
    const a = this.#attempt;
    return {
      started: a !== null,
      nonce: a?.nonce ?? '',
      t: a?.config.secretThreshold ?? 0,
      n: a?.config.secretShares ?? 0,
      progress: a?.shares.count ?? 0,
      required: await this.#deps.seal.threshold(),
      pgp_fingerprints: a ? fingerprints(a.pgp) : null,
      backup: a?.backup ?? false,
      verification_required: a?.verify ?? false,
      ...(a?.verification ? { verification_nonce: a.verification.nonce } : {}),
    };
  }

  async start(opts: { secretShares: number; secretThreshold: number; pgp: readonly PgpKey[]; backup: boolean; requireVerification: boolean }): Promise<RekeyStatus> {
    validateSealConfig(opts.secretShares, opts.secretThreshold);
    if (opts.pgp.length > 0 && opts.pgp.length !== opts.secretShares) throw badRequest('incorrect number of PGP keys: give one for each of secret_shares');
    if (opts.backup && opts.pgp.length === 0) throw badRequest('cannot request a backup of the new keys without providing PGP keys for encryption');
    if (this.#attempt) throw badRequest('rekey already in progress');
    this.#attempt = {
      nonce: randomUUID(),
      config: { type: 'shamir', secretShares: opts.secretShares, secretThreshold: opts.secretThreshold },
      pgp: opts.pgp,
      backup: opts.backup,
      verify: opts.requireVerification,
      shares: new KeyShares(),
      verification: null,
    };
    return this.status();
  }

  cancel(): void {
    const a = this.#attempt;
    if (!a) return;
    a.shares.reset();
    if (a.verification) {
      a.verification.shares.reset();
      a.verification.prepared.discard();
    }
    this.#attempt = null;
  }

  /** Submit one current share; at the threshold the new shares are made (and, without verification, in force). */
  async update(share: Uint8Array, nonce: string): Promise<RekeyStatus | RekeyResult> {
    const a = this.#attempt;
    if (!a) throw badRequest('no barrier rekey in progress');
    if (a.verification) throw badRequest(`rekey operation already finished; verification must be performed; nonce for the verification operation is "${a.verification.nonce}"`);
    if (nonce !== a.nonce) throw badRequest(`incorrect nonce supplied; nonce for this rekey operation is "${a.nonce}"`);
    await this.#deps.seal.checkShare(share);
    if (!a.shares.add(share)) throw badRequest('given key has already been provided during this rekey operation');
    if (a.shares.count < (await this.#deps.seal.threshold())) return this.status();
    const shares = a.shares.take();
    let rootKey: Uint8Array;
    try {
      rootKey = await this.#deps.seal.rootKeyFrom(shares);
    } finally {
      wipe(shares);
    }
    let prepared: PreparedSeal;
    try {
      prepared = await this.#deps.prepare(rootKey, a.config);
    } finally {
      rootKey.fill(0);
    }
    // What the holders get: each share in hex (or, with PGP keys, the hex share encrypted to its holder).
    const handedOut = a.pgp.length ? await Promise.all(prepared.shares.map((s, i) => a.pgp[i]!.encrypt(Buffer.from(Buffer.from(s).toString('hex'))))) : prepared.shares.map((s) => Uint8Array.from(s));
    // The copies handed out are all that is needed of the new shares from here on.
    wipe(prepared.shares);
    const backup: RekeyBackup | null = a.backup ? backupOf(a.nonce, a.pgp, handedOut) : null;
    const result = (verificationNonce?: string): RekeyResult => ({
      complete: true,
      nonce: a.nonce,
      keys: handedOut.map((k) => Buffer.from(k).toString('hex')),
      keys_base64: handedOut.map((k) => Buffer.from(k).toString('base64')),
      pgp_fingerprints: fingerprints(a.pgp),
      backup: a.backup,
      verification_required: a.verify,
      ...(verificationNonce !== undefined ? { verification_nonce: verificationNonce } : {}),
    });
    if (a.verify) {
      a.verification = { nonce: randomUUID(), prepared, backup, shares: new KeyShares() };
      return result(a.verification.nonce);
    }
    await this.#commit(a, prepared, backup);
    return result();
  }

  verifyStatus(): RekeyVerifyStatus {
    const a = this.#attempt;
    const v = a?.verification;
    return { started: v !== undefined && v !== null, nonce: v?.nonce ?? '', t: v ? a!.config.secretThreshold : 0, n: v ? a!.config.secretShares : 0, progress: v?.shares.count ?? 0 };
  }

  /** Submit one of the new shares; at the new threshold the new key set goes into force. */
  async verifyUpdate(share: Uint8Array, nonce: string): Promise<{ nonce: string; complete: boolean }> {
    const a = this.#attempt;
    const v = a?.verification;
    if (!a || !v) throw badRequest('no rekey verification in progress');
    if (nonce !== v.nonce) throw badRequest(`incorrect nonce supplied; nonce for this verify operation is "${v.nonce}"`);
    checkShareLength(a.config.secretShares, share);
    if (!v.shares.add(share)) throw badRequest('given key has already been provided during this verify operation');
    if (v.shares.count < a.config.secretThreshold) return { nonce: v.nonce, complete: false };
    const shares = v.shares.take();
    let combined: Uint8Array;
    try {
      combined = await combineShares(shares);
    } catch {
      throw badRequest('failed to recover the new unseal key from the given shares; verification progress was reset');
    } finally {
      wipe(shares);
    }
    const matches = combined.length === v.prepared.unsealKey.length && timingSafeEqual(combined, v.prepared.unsealKey);
    combined.fill(0);
    if (!matches) throw badRequest('the given shares do not reconstruct the new unseal key; verification progress was reset');
    await this.#commit(a, v.prepared, v.backup);
    return { nonce: v.nonce, complete: true };
  }

  /** Start verification over: progress is dropped and the verification nonce changes. */
  verifyCancel(): void {
    const v = this.#attempt?.verification;
    if (!v) return;
    v.shares.reset();
    this.#attempt!.verification = { ...v, nonce: randomUUID(), shares: new KeyShares() };
  }

  async #commit(a: Attempt, prepared: PreparedSeal, backup: RekeyBackup | null): Promise<void> {
    // The backup of an earlier rekey names shares that no longer unseal: it goes with them.
    const ops: StorageOp[] = [backup ? { op: 'put', key: BACKUP_PATH, value: new TextEncoder().encode(JSON.stringify(backup)) } : { op: 'delete', key: BACKUP_PATH }];
    try {
      await this.#deps.commit(ops, prepared.ops);
      prepared.committed();
    } finally {
      prepared.discard();
      if (this.#attempt === a) this.#attempt = null;
    }
  }
}

function backupOf(nonce: string, keys: readonly PgpKey[], encrypted: readonly Uint8Array[]): RekeyBackup {
  const hex: Record<string, string[]> = {};
  const b64: Record<string, string[]> = {};
  keys.forEach((k, i) => {
    (hex[k.fingerprint] ??= []).push(Buffer.from(encrypted[i]!).toString('hex'));
    (b64[k.fingerprint] ??= []).push(Buffer.from(encrypted[i]!).toString('base64'));
  });
  return { nonce, keys: hex, keys_base64: b64 };
}
