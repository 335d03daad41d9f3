import { createMessage, encrypt, readKey, type Key } from 'openpgp';
import { badRequest } from '../logical/index.js';
import { decodeStrictBase64 } from '../util/index.js';

/**
 * OpenPGP public keys as Vault's API takes them (pgp_keys, root_token_pgp_key, pgp_key): each is
 * a base64-encoded binary key, as `gpg --export KEYID | base64` gives it. An ASCII-armored key is
 * taken too. "keybase:user" names are not: coffer reaches no keybase server.
 */
export class PgpKey {
  readonly #key: Key;
  /** The key's v4 fingerprint, lowercase hex, as Vault reports it (pgp_fingerprints). */
  readonly fingerprint: string;

  private constructor(key: Key) {
    this.#key = key;
    this.fingerprint = key.getFingerprint();
  }

  /** Parse one key; `field` names the parameter in the error, which never repeats the value. */
  static async parse(text: string, field: string): Promise<PgpKey> {
    const trimmed = text.trim();
    if (trimmed.startsWith('keybase:')) throw badRequest(`${field}: keybase users are not supported; give the base64-encoded public key`);
    let key: Key;
    try {
      if (trimmed.startsWith('-----BEGIN PGP')) key = await readKey({ armoredKey: trimmed });
      else {
        const binary = decodeStrictBase64(trimmed);
        if (!binary) throw new Error('not base64');
        key = await readKey({ binaryKey: binary });
      }
    } catch {
      throw badRequest(`${field}: not a base64-encoded OpenPGP public key`);
    }
    if (key.isPrivate()) throw badRequest(`${field}: a private key was given; give the public key only`);
    try {
      await key.getEncryptionKey();
    } catch {
      throw badRequest(`${field}: the key cannot encrypt (expired, revoked or without an encryption subkey)`);
    }
    return new PgpKey(key);
  }

  /** Parse a list of keys (pgp_keys), given as an array or a comma-separated string. */
  static async parseList(raw: unknown, field: string): Promise<PgpKey[]> {
    const items = typeof raw === 'string' ? raw.split(',').filter((s) => s.trim() !== '') : raw;
    if (!Array.isArray(items) || !items.every((k): k is string => typeof k === 'string')) throw badRequest(`${field} must be a list of base64-encoded public keys`);
    return Promise.all(items.map((k, i) => PgpKey.parse(k, `${field}[${i}]`)));
  }

  /** Encrypt to this key: a binary OpenPGP message gpg decrypts with the matching private key. */
  async encrypt(plain: Uint8Array): Promise<Uint8Array> {
    const message = await createMessage({ binary: plain });
    return encrypt({ message, encryptionKeys: this.#key, format: 'binary' });
  }
}
