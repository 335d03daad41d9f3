import type { Clock, Logger } from '../util/index.js';

/**
 * What a backend may know of the server around it, beyond its own storage: its mount's lease
 * TTLs (read at call time, so a tune applies at once), password generation by policy, a logger
 * and the clock. Nothing else of
 * the core is reachable from a backend.
 */
export interface SystemView {
  /** Default lease TTL of the mount in seconds: its own tuning, else the server's default. */
  defaultLeaseTtl(): number;
  /** Maximum lease TTL of the mount in seconds: its own tuning, else the server's maximum. */
  maxLeaseTtl(): number;
  /** A password under the named password policy (sys/policies/password), or Vault's default for "". */
  generatePassword(policy: string): Promise<string>;
  readonly logger: Logger;
  readonly clock: Clock;
}
