import { createHash } from 'node:crypto';
import { CofferError, MSG, getJSON, putJSON, type StorageView } from '../logical/index.js';
import type { Clock } from '../util/index.js';

/** A mount's user lockout settings (tuned as `user_lockout_config`). Seconds. */
export interface LockoutConfig {
  readonly threshold: number;
  readonly duration: number;
  readonly counterReset: number;
  readonly disable: boolean;
}

/** Vault's defaults: 5 failures within 15 minutes lock the user out for 15 minutes. */
export const DEFAULT_LOCKOUT: LockoutConfig = Object.freeze({ threshold: 5, duration: 900, counterReset: 900, disable: false });

/** One login name at one auth mount. */
export interface LockoutSubject {
  readonly mountAccessor: string;
  /** The canonical name the login claims (a lower-cased user name, a role id). */
  readonly alias: string;
  readonly config: LockoutConfig;
}

interface LockedEntry {
  readonly mountAccessor: string;
  readonly alias: string;
  /** Milliseconds since the epoch. */
  readonly lockedAt: number;
}

const keyOf = (s: Pick<LockoutSubject, 'mountAccessor' | 'alias'>) => `${s.mountAccessor}/${createHash('sha256').update(s.alias).digest('hex')}`;

/**
 * User lockout, as Vault 1.13+ has it for userpass and AppRole: after `threshold` failed logins
 * for one name at one mount, each within `counterReset` of the last, the name is locked for
 * `duration` and every login with it is refused with 403 before its credentials are checked.
 * A success resets the count. Counters live in memory; locked names are stored, so a restart
 * does not unlock them. Names are counted whether or not they exist: the answers stay the same.
 */
export class UserLockout {
  readonly #view: StorageView;
  readonly #clock: Clock;
  readonly #failures = new Map<string, { count: number; last: number }>();
  readonly #locked = new Map<string, LockedEntry>();

  constructor(opts: { readonly view: StorageView; readonly clock: Clock }) {
    this.#view = opts.view;
    this.#clock = opts.clock;
  }

  async load(): Promise<void> {
    this.reset();
    for (const accessor of await this.#view.list('')) {
      for (const k of await this.#view.list(accessor)) {
        const e = await getJSON<LockedEntry>(this.#view, `${accessor}${k}`);
        if (e) this.#locked.set(`${accessor}${k}`, e);
      }
    }
  }

  reset(): void {
    this.#failures.clear();
    this.#locked.clear();
  }

  /** Refuse a login for a locked name (403), before its credentials are looked at. */
  async check(s: LockoutSubject): Promise<void> {
    if (s.config.disable) return;
    const key = keyOf(s);
    const locked = this.#locked.get(key);
    if (!locked) return;
    if (this.#clock.now() < locked.lockedAt + s.config.duration * 1000) throw new CofferError('permission_denied', MSG.permissionDenied);
    await this.#unlockKey(key);
  }

  async failed(s: LockoutSubject): Promise<void> {
    if (s.config.disable || s.config.threshold <= 0) return;
    const key = keyOf(s);
    const now = this.#clock.now();
    const seen = this.#failures.get(key);
    const count = seen && now - seen.last < s.config.counterReset * 1000 ? seen.count + 1 : 1;
    if (count < s.config.threshold) {
      this.#failures.set(key, { count, last: now });
      return;
    }
    this.#failures.delete(key);
    const entry: LockedEntry = { mountAccessor: s.mountAccessor, alias: s.alias, lockedAt: now };
    await putJSON(this.#view, key, entry);
    this.#locked.set(key, entry);
  }

  succeeded(s: LockoutSubject): void {
    this.#failures.delete(keyOf(s));
  }

  /** The names locked now, by mount accessor (for sys/locked-users). */
  locked(durationOf: (mountAccessor: string) => number): Map<string, string[]> {
    const now = this.#clock.now();
    const out = new Map<string, string[]>();
    for (const e of this.#locked.values()) {
      if (now >= e.lockedAt + durationOf(e.mountAccessor) * 1000) continue;
      out.set(e.mountAccessor, [...(out.get(e.mountAccessor) ?? []), e.alias].sort());
    }
    return out;
  }

  async unlock(mountAccessor: string, alias: string): Promise<void> {
    await this.#unlockKey(keyOf({ mountAccessor, alias }));
  }

  async #unlockKey(key: string): Promise<void> {
    this.#failures.delete(key);
    if (!this.#locked.has(key)) return;
    await this.#view.delete(key);
    this.#locked.delete(key);
  }
}
