import { randomUUID } from 'node:crypto';
import { badRequest } from '../logical/index.js';
import { KeyShares, type PgpKey } from '../seal/index.js';
import { encodeWithOtp, OTP_LENGTH, randomBase62 } from '../util/index.js';
import { type ShareAuthority, wipe } from './key-shares.js';

/** sys/generate-root/attempt and update, in Vault's shape (every field, always). */
export interface RootGenerationStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly progress: number;
  readonly required: number;
  readonly complete: boolean;
  readonly encoded_token: string;
  readonly encoded_root_token: string;
  readonly pgp_fingerprint: string;
  readonly otp: string;
  readonly otp_length: number;
}

interface Attempt {
  readonly nonce: string;
  readonly otp: string;
  readonly pgp: PgpKey | null;
  readonly shares: KeyShares;
}

/**
 * A root token generation: a quorum of share holders, each submitting one share under the
 * attempt's nonce, mints a new root token that leaves the server only encoded (XORed with the
 * OTP, or encrypted to a PGP key). One attempt at a time; it lives in memory, so sealing or a
 * restart ends it.
 */
export class RootGeneration {
  readonly #seal: ShareAuthority;
  readonly #mint: () => Promise<string>;
  #attempt: Attempt | null = null;

  constructor(deps: { seal: ShareAuthority; mintRootToken: () => Promise<string> }) {
    this.#seal = deps.seal;
    this.#mint = deps.mintRootToken;
  }

  async status(otp = ''): Promise<RootGenerationStatus> {
    const a = this.#attempt;
    return {
      started: a !== null,
      nonce: a?.nonce ?? '',
      progress: a?.shares.count ?? 0,
      required: await this.#seal.threshold(),
      complete: false,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: a?.pgp?.fingerprint ?? '',
      otp,
      otp_length: OTP_LENGTH,
    };
  }

  /** Start an attempt. Without an OTP or a PGP key the server makes the OTP and answers it, once. */
  async start(opts: { otp: string; pgp: PgpKey | null }): Promise<RootGenerationStatus> {
    if (opts.otp !== '' && opts.pgp) throw badRequest('only one of otp and pgp_key may be given');
    if (opts.otp !== '' && opts.otp.length !== OTP_LENGTH) throw badRequest('OTP string is wrong length');
    if (this.#attempt) throw badRequest('root generation already in progress');
    const generated = opts.otp === '' && !opts.pgp ? randomBase62(OTP_LENGTH) : '';
    this.#attempt = { nonce: randomUUID(), otp: generated || opts.otp, pgp: opts.pgp, shares: new KeyShares() };
    return this.status(generated);
  }

  cancel(): void {
    this.#attempt?.shares.reset();
    this.#attempt = null;
  }

  /** Submit one share; at the threshold the token is minted and the attempt ends. */
  async update(share: Uint8Array, nonce: string): Promise<RootGenerationStatus> {
    const a = this.#attempt;
    if (!a) throw badRequest('no root generation in progress');
    if (nonce !== a.nonce) throw badRequest(`incorrect nonce supplied; nonce for this root generation operation is "${a.nonce}"`);
    await this.#seal.checkShare(share);
    if (!a.shares.add(share)) throw badRequest('given key has already been provided during this generation operation');
    const required = await this.#seal.threshold();
    const progress = a.shares.count;
    const answer = (encoded: string): RootGenerationStatus => ({
      started: true,
      nonce: a.nonce,
      progress,
      required,
      complete: encoded !== '',
      encoded_token: encoded,
      encoded_root_token: encoded,
      pgp_fingerprint: a.pgp?.fingerprint ?? '',
      otp: '',
      otp_length: 0,
    });
    if (progress < required) return answer('');
    const shares = a.shares.take();
    try {
      (await this.#seal.rootKeyFrom(shares)).fill(0);
    } finally {
      wipe(shares);
    }
    const token = await this.#mint();
    const encoded = a.pgp ? Buffer.from(await a.pgp.encrypt(Buffer.from(token))).toString('base64') : encodeWithOtp(token, a.otp);
    // Cancelled while the token was being minted? It exists; the encoded answer is still theirs.
    if (this.#attempt === a) this.#attempt = null;
    return answer(encoded);
  }
}
