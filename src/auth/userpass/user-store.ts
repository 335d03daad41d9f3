import { getJSON, putJSON, type StorageView } from '../../logical/index.js';
import type { TokenSettings } from '../../framework/index.js';

/** A user as stored: the password only as its bcrypt hash, never in the clear. */
export interface UserEntry extends TokenSettings {
  readonly password_hash: string;
}

/** Vault keeps user names lower-case: "Alice" and "alice" are one user. */
export function canonicalUser(name: string): string {
  return name.trim().toLowerCase();
}

export const loadUser = (view: StorageView, name: string): Promise<UserEntry | null> => getJSON<UserEntry>(view, `user/${canonicalUser(name)}`);
export const saveUser = (view: StorageView, name: string, user: UserEntry): Promise<void> => putJSON(view, `user/${canonicalUser(name)}`, user);
