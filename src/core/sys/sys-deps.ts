import type { CallerIdentity } from '../../logical/index.js';
import type { AuditTable } from '../audit/audit-table.js';
import type { InFlightRequests } from '../in-flight.js';
import type { KeyRotation } from '../key-rotation.js';
import type { QuotaManager } from '../quotas/quotas.js';
import type { AutoSnapshots } from '../snapshot/auto.js';
import type { Rekey, RekeyBackup } from '../rekey.js';
import type { RootGeneration } from '../root-generation.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { Wrapping } from '../wrapping/wrapping.js';
import type { ExpirationManager } from '../expiration/index.js';
import type { MountManager } from '../mounts/index.js';
import type { Acl, PasswordPolicyStore, PolicyStore } from '../policy/index.js';
import type { Lifecycle } from '../seal-status.js';

/** An object's methods as steps the core runs in turn: each answers a promise. */
type Steps<T> = { readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

/** What the system backend may reach of the core; each member is one narrow capability. */
export interface SysDeps {
  readonly mounts: MountManager;
  readonly policies: PolicyStore;
  /** Server-wide default and maximum lease TTLs, in seconds. */
  readonly systemTtls: { readonly defaultTtl: number; readonly maxTtl: number };
  /** The compiled ACL of a token given by value, or null if the token is not live. */
  readonly aclForToken: (token: string) => Promise<Acl | null>;
  /** The compiled ACL of a token given by accessor, or null. */
  readonly aclForAccessor: (accessor: string) => Promise<Acl | null>;
  /** The compiled ACL of the caller. */
  readonly aclForCaller: (caller: CallerIdentity) => Promise<Acl>;
  /** Initialise, unseal, seal, and report the seal state. */
  readonly lifecycle: Lifecycle;
  /** Leases: lookup, renew, revoke, list, tidy. */
  readonly leases: ExpirationManager;
  /** Revoke every token issued on a path under the prefix ("auth/approle/login"): a login's token is its lease. */
  readonly revokeTokensUnder: (prefix: string) => Promise<void>;
  readonly passwordPolicies: PasswordPolicyStore;
  /** The names user lockout holds locked now, by auth mount accessor; and unlocking one. */
  readonly lockedUsers: {
    list(): Map<string, string[]>;
    unlock(mountAccessor: string, alias: string): Promise<void>;
  };
  /** The server's metrics. */
  readonly telemetry: Pick<Telemetry, 'answer'>;
  /** The requests being answered now. */
  readonly inFlight: Pick<InFlightRequests, 'list'>;
  /** The barrier's key: its status, rotation and automatic rotation. */
  readonly keys: Pick<KeyRotation, 'status' | 'rotate' | 'config' | 'setConfig'>;
  /** Root token generation from a quorum of key shares (sys/generate-root). */
  readonly rootGeneration: Steps<Pick<RootGeneration, 'status' | 'start' | 'cancel' | 'update'>>;
  /** Rekey: new unseal key shares from a quorum of the current ones (sys/rekey), and their backup. */
  readonly rekey: Steps<Pick<Rekey, 'status' | 'start' | 'cancel' | 'update' | 'verifyStatus' | 'verifyUpdate' | 'verifyCancel'>> & {
    readBackup(): Promise<RekeyBackup | null>;
    deleteBackup(): Promise<void>;
  };
  /** Snapshots of all storage: save one, restore one. */
  readonly snapshots: {
    save(): Promise<Buffer>;
    restore(file: Uint8Array, opts: { force: boolean }): Promise<{ sealed: boolean }>;
  };
  /** Automated snapshot configurations and their status. */
  readonly autoSnapshots: Pick<AutoSnapshots, 'names' | 'config' | 'status' | 'set' | 'delete'>;
  /** Resource quotas: rate limits and lease counts, and their settings. */
  readonly quotas: Pick<QuotaManager, 'config' | 'setConfig' | 'names' | 'get' | 'set' | 'delete'>;
  /** Response wrapping: wrapping tokens and the responses kept under them. */
  readonly wrapping: Pick<Wrapping, 'lookup' | 'lookupToken' | 'spend' | 'finish' | 'take' | 'rewrap'>;
  /** The server configuration without secrets (sys/config/state/sanitized). */
  readonly sanitizedConfig: Readonly<Record<string, unknown>>;
  /** The audit devices and audited request headers. */
  readonly audit: Pick<AuditTable, 'list' | 'enable' | 'disable' | 'hash' | 'headers' | 'setHeader' | 'deleteHeader'>;
}
