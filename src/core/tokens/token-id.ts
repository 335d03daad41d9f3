import { createHmac } from 'node:crypto';
import { randomBase62 } from '../../util/index.js';

/**
 * A service token in Vault's current format: "hvs." and 95 characters. Secret scanners that know
 * Vault tokens (gitleaks' vault-service-token: hvs.[\w-]{90,120}) recognise a leaked coffer token.
 */
export function newServiceToken(): string {
  return `hvs.${randomBase62(95)}`;
}

/** Batch tokens carry their entry, sealed; "hvb." as in Vault. */
export const BATCH_PREFIX = 'hvb.';

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
