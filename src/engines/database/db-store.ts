import { getJSON, putJSON, type StorageView } from '../../logical/index.js';

/** A connection as config/:name stores it. `password` is the root password: never returned. */
export interface DbConfig {
  readonly plugin_name: string;
  readonly plugin_version: string;
  readonly verify_connection: boolean;
  readonly allowed_roles: readonly string[];
  readonly root_rotation_statements: readonly string[];
  readonly password_policy: string;
  readonly username_template: string;
  /** Plugin-specific fields: connection_url, or host/port/tls for Redis. */
  readonly connection_details: Readonly<Record<string, unknown>>;
  readonly username: string;
  readonly password: string;
  readonly max_open_connections: number;
  readonly max_idle_connections: number;
  readonly max_connection_lifetime: number;
}

export interface DynamicRole {
  readonly db_name: string;
  readonly creation_statements: readonly string[];
  readonly revocation_statements: readonly string[];
  readonly rollback_statements: readonly string[];
  readonly renew_statements: readonly string[];
  readonly default_ttl: number;
  readonly max_ttl: number;
  readonly credential_type: string;
}

export interface StaticRole {
  readonly db_name: string;
  readonly username: string;
  /** Seconds; 0 when a schedule is used. */
  readonly rotation_period: number;
  /** A cron expression (UTC); "" when a period is used. */
  readonly rotation_schedule: string;
  readonly rotation_statements: readonly string[];
  readonly credential_type: string;
  readonly password: string;
  /** Milliseconds since the epoch. */
  readonly last_vault_rotation: number;
  readonly next_rotation: number;
  /**
   * A password being put in place: stored before the database is changed, so a crash between
   * the two leaves a password the next rotation finishes setting, never one nobody knows.
   */
  readonly pending_password?: string;
  readonly last_rotation_error?: string;
}

export const dbKeys = {
  config: (name: string) => `config/${name}`,
  role: (name: string) => `role/${name}`,
  staticRole: (name: string) => `static-role/${name}`,
} as const;

export const loadConfig = (view: StorageView, name: string) => getJSON<DbConfig>(view, dbKeys.config(name));
export const saveConfig = (view: StorageView, name: string, c: DbConfig) => putJSON(view, dbKeys.config(name), c);
export const loadRole = (view: StorageView, name: string) => getJSON<DynamicRole>(view, dbKeys.role(name));
export const loadStaticRole = (view: StorageView, name: string) => getJSON<StaticRole>(view, dbKeys.staticRole(name));
export const saveStaticRole = (view: StorageView, name: string, r: StaticRole) => putJSON(view, dbKeys.staticRole(name), r);

/** Vault's allowed_roles: "*" for all, else names or globs with "*". */
export function roleAllowed(config: DbConfig, role: string): boolean {
  return config.allowed_roles.some((pattern) => {
    if (pattern === '*') return true;
    if (!pattern.includes('*')) return pattern === role;
    const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return re.test(role);
  });
}
