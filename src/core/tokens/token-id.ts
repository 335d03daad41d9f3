import { createHmac, randomBytes } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniform base62 string of length n (rejection sampling, no modulo bias). */
export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += BASE62[b % 62];
    }
  }
  return out;
}

/**
 * A service token in Vault's current format: "hvs." and 95 characters. Secret scanners that know
 * Vault tokens (gitleaks' vault-service-token: hvs.[\w-]{90,120}) recognise a leaked coffer token.
 */
export function newServiceToken(): string {
  return `hvs.${randomBase62(95)}`;
}

/** Accessors are 24 base62 characters, as in Vault. */
export function newAccessor(): string {
  return randomBase62(24);
}

/**
 * The storage key of a token: HMAC-SHA256 under a per-server salt kept behind the barrier.
 * Tokens are found by this key and never compared directly, so no comparison can leak timing.
 */
export function hashToken(salt: Uint8Array, token: string): string {
  return createHmac('sha256', salt).update(token).digest('hex');
}
