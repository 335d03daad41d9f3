import { badRequest } from '../../../logical/index.js';

/**
 * The one interface every database plugin implements (Vault's dbplugin v5 in shape): open a
 * connection from a config, create a user, change its password or expiry, delete it. Every
 * plugin passes the same contract suite against the real server on this machine.
 */

/** A connection's settings as the config path stores them. The root password is in here. */
export interface ConnectionConfig {
  /** Plugin-specific connection fields: connection_url, or host/port for Redis. */
  readonly connectionDetails: Readonly<Record<string, unknown>>;
  readonly username: string;
  readonly password: string;
  readonly maxOpenConnections: number;
  readonly maxIdleConnections: number;
  /** Seconds; 0 for no limit. */
  readonly maxConnectionLifetime: number;
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  /** Milliseconds since the epoch. */
  readonly expiration: number;
  readonly statements: readonly string[];
  readonly rollbackStatements: readonly string[];
}

export interface UpdateUser {
  readonly username: string;
  readonly password?: { readonly value: string; readonly statements: readonly string[] };
  readonly expiration?: { readonly value: number; readonly statements: readonly string[] };
}

export interface DeleteUser {
  readonly username: string;
  readonly statements: readonly string[];
}

export interface DatabasePlugin {
  /** Check the connection works (verify_connection). */
  verify(): Promise<void>;
  /**
   * Create the user with the statements (the plugin's defaults when none are given). If a
   * statement fails, nothing of the user is left: a transaction rolls back, or the rollback
   * statements (else the plugin's own clean-up) run.
   */
  newUser(req: NewUser): Promise<void>;
  updateUser(req: UpdateUser): Promise<void>;
  /** Remove the user. A user that is already gone counts as removed. */
  deleteUser(req: DeleteUser): Promise<void>;
  close(): Promise<void>;
}

export interface PluginType {
  readonly name: string;
  /** The username template used when a config sets none (Vault's per-plugin default). */
  readonly defaultUsernameTemplate: string;
  /** Fields of config/:name this plugin reads besides the common ones. */
  readonly connectionFields: readonly string[];
  /** Statements must be given for roles (Redis roles hold ACL rules, not SQL). */
  readonly requiresCreationStatements: boolean;
  open(config: ConnectionConfig): DatabasePlugin;
}

/**
 * An error from the database, with a message fit for a lease record and an operator: the
 * database's own words, with any value the plugin was given (passwords) taken out.
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

/** A database's refusal as a caller's 400, prefixed with what was being done; anything else as it is. */
export function asRequestError(e: unknown, what: string): unknown {
  return e instanceof DatabaseError ? badRequest(`${what}: ${e.message}`) : e;
}

/** Replace every secret value in a message with "[redacted]". */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
