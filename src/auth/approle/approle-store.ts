import { createHmac, randomBytes } from 'node:crypto';
import { getJSON, type StorageView } from '../../logical/index.js';
import type { TokenSettings } from '../../framework/index.js';

/** An AppRole as stored. Role names are case-insensitive, as in Vault. */
export interface RoleEntry extends TokenSettings {
  readonly name: string;
  readonly role_id: string;
  readonly bind_secret_id: boolean;
  readonly secret_id_bound_cidrs: readonly string[];
  readonly secret_id_num_uses: number;
  readonly secret_id_ttl: number;
  readonly local_secret_ids: boolean;
}

/** A secret-id as stored: under the HMAC of its value, never the value itself. */
export interface SecretIdEntry {
  readonly secret_id_accessor: string;
  /** Uses left; 0 for unlimited. */
  readonly secret_id_num_uses: number;
  readonly secret_id_ttl: number;
  readonly creation_time: string;
  /** "" for never. */
  readonly expiration_time: string;
  readonly last_updated_time: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly cidr_list: readonly string[];
  readonly token_bound_cidrs: readonly string[];
}

/** Where an accessor points: the role it belongs to and its secret-id's HMAC. */
export interface AccessorEntry {
  readonly role: string;
  readonly secret_id_hmac: string;
}

export const canonicalRole = (name: string): string => name.trim().toLowerCase();

/**
 * The mount's storage keys. Role ids, secret-ids and accessors are kept only as HMACs under a
 * per-mount key, so neither a storage dump nor a list shows one.
 */
export class AppRoleKeys {
  readonly #view: StorageView;
  #key: Promise<Buffer> | null = null;

  constructor(view: StorageView) {
    this.#view = view;
  }

  #hmacKey(): Promise<Buffer> {
    this.#key ??= (async () => {
      const stored = await this.#view.get('salt');
      if (stored) return Buffer.from(stored);
      const fresh = randomBytes(32);
      await this.#view.put('salt', fresh);
      return fresh;
    })();
    return this.#key;
  }

  async hmac(value: string): Promise<string> {
    return createHmac('sha256', await this.#hmacKey()).update(value).digest('hex');
  }

  role = (name: string) => `role/${canonicalRole(name)}`;
  roleIdKey = async (roleId: string) => `role_id/${await this.hmac(roleId)}`;
  /** The folder of a role's secret-ids; named by the role's HMAC so a rename-alike never shares it. */
  secretIdFolder = async (role: string) => `secret_id/${await this.hmac(`role:${canonicalRole(role)}`)}/`;
  secretIdKey = async (role: string, secretIdHmac: string) => `${await this.secretIdFolder(role)}${secretIdHmac}`;
  accessorKey = async (accessor: string) => `accessor/${await this.hmac(`accessor:${accessor}`)}`;
}

export const loadRole = (view: StorageView, keys: AppRoleKeys, name: string): Promise<RoleEntry | null> => getJSON<RoleEntry>(view, keys.role(name));
