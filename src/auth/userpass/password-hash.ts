import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import bcrypt from 'bcrypt';

/** Vault's bcrypt cost (bcrypt.DefaultCost). */
const COST = 10;

/**
 * How many bcrypt computations run at once: one core fewer than the process may use (at least
 * one). bcrypt runs on libuv's thread pool, never the event loop, but on the same cores; held to
 * this many, a burst of logins queues instead of crowding out the event loop, so other requests
 * keep their latency.
 */
const SLOTS = Math.max(1, availableParallelism() - 1);
let busy = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  // A finishing computation hands its slot straight to the next in line, so none is ever over.
  if (busy >= SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else busy++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  }
}

/** Hash a password with bcrypt, off the event loop. */
export function hashPassword(password: string): Promise<string> {
  return limited(() => bcrypt.hash(password, COST));
}

let decoy: Promise<string> | null = null;

/**
 * Check a password against a stored hash; with no hash (no such user), against a decoy of the
 * same cost, so that the answer takes as long whether the user exists or not.
 */
export async function checkPassword(password: string, hash: string | null): Promise<boolean> {
  decoy ??= hashPassword(randomBytes(18).toString('base64'));
  const against = hash ?? (await decoy);
  const ok = await limited(() => bcrypt.compare(password, against));
  return ok && hash !== null;
}
