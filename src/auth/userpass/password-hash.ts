import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** Vault's bcrypt cost (bcrypt.DefaultCost). */
const COST = 10;

/**
 * Hash a password with bcrypt. bcrypt's async calls run on libuv's thread pool, so a burst of
 * logins costs threads, never the event loop: other requests keep their latency.
 */
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

let decoy: Promise<string> | null = null;

/**
 * Check a password against a stored hash; with no hash (no such user), against a decoy of the
 * same cost, so that the answer takes as long whether the user exists or not.
 */
export async function checkPassword(password: string, hash: string | null): Promise<boolean> {
  decoy ??= bcrypt.hash(randomBytes(18).toString('base64'), COST);
  const ok = await bcrypt.compare(password, hash ?? (await decoy));
  return ok && hash !== null;
}
