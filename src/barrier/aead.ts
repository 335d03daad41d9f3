import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto';

const VERSION = 1;
const HEADER = 1 + 4; // version, key term
const NONCE = 12;
const TAG = 16;

/**
 * Nonces are drawn from the CSPRNG in batches (one system call for 256 of them), each byte used
 * once: the same random 96-bit nonces as one draw per value, for less per write.
 */
const NONCE_BATCH = 256;
const noncePool = Buffer.allocUnsafe(NONCE * NONCE_BATCH);
let nonceOffset = noncePool.length;

function fillNonce(nonce: Buffer): void {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  noncePool.copy(nonce, 0, nonceOffset, nonceOffset + NONCE);
  noncePool.fill(0, nonceOffset, nonceOffset + NONCE); // never kept once handed out
  nonceOffset += NONCE;
}

/**
 * AES-256-GCM with the storage path as additional data, so a ciphertext moved to another path
 * no longer decrypts. Layout: version(1) | term(4, BE) | nonce(12) | ciphertext | tag(16).
 */
export function seal(key: KeyObject, term: number, path: string, plaintext: Uint8Array): Uint8Array {
  // Its own memory, not a slice of Node's shared 8 KiB pool: a cached ciphertext must not keep a
  // whole pool slab (and the other values written into it) alive.
  const out = Buffer.allocUnsafeSlow(HEADER + NONCE + plaintext.length + TAG);
  out[0] = VERSION;
  out.writeUInt32BE(term, 1);
  const nonce = out.subarray(HEADER, HEADER + NONCE);
  fillNonce(nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const n = cipher.update(plaintext).copy(out, HEADER + NONCE);
  cipher.final();
  cipher.getAuthTag().copy(out, HEADER + NONCE + n);
  return out;
}

/** The key term a ciphertext was written under, or throws if the blob is not one of ours. */
export function termOf(blob: Uint8Array): number {
  if (blob.length < HEADER + NONCE + TAG || blob[0] !== VERSION) throw new Error('ciphertext is malformed');
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).readUInt32BE(1);
}

/** Decrypt and authenticate; throws on any tampering, wrong key or wrong path. */
export function open(key: KeyObject, path: string, blob: Uint8Array): Uint8Array {
  termOf(blob);
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const nonce = buf.subarray(HEADER, HEADER + NONCE);
  const body = buf.subarray(HEADER + NONCE, buf.length - TAG);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(path, 'utf8'));
  decipher.setAuthTag(buf.subarray(buf.length - TAG));
  const head = decipher.update(body);
  const tail = decipher.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}
