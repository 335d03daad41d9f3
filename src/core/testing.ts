import { DEV_MOUNTS, composeCore } from '../compose.js';
import type { BackendRegistry } from '../framework/index.js';
import type { AuditSinkRegistry, LogicalResponse, Operation } from '../logical/index.js';
import { InmemStorage, type StorageBackend } from '../storage/index.js';
import { type Clock, ManualClock, silentLogger } from '../util/index.js';
import type { Core, CoreOptions } from './core.js';

export interface TestCore {
  readonly core: Core;
  readonly rootToken: string;
  readonly keys: Uint8Array[];
  readonly clock: Clock;
  /** Send a request as `token` (root by default). */
  request(operation: Operation, path: string, data?: Record<string, unknown>, token?: string): Promise<LogicalResponse | null>;
}

/** An unsealed core on inmem storage with KV v2 at secret/, like Vault's TestCoreUnsealed. */
export async function newTestCore(
  opts: {
    storage?: StorageBackend;
    clock?: Clock;
    shares?: number;
    threshold?: number;
    /** Engines only this test has (a stand-in that mints secrets). */
    engines?: BackendRegistry;
    /** Audit device types only this test has (one that keeps its entries in memory). */
    auditSinks?: AuditSinkRegistry;
  } & Partial<Pick<CoreOptions, 'revocation' | 'leaseWindow' | 'logger' | 'userLockout' | 'auditDevices' | 'telemetry'>> = {},
): Promise<TestCore> {
  const clock = opts.clock ?? new ManualClock();
  const core = composeCore(
    {
      storage: opts.storage ?? new InmemStorage(),
      storageType: 'inmem',
      clock,
      logger: opts.logger ?? silentLogger,
      defaultLeaseTtl: 768 * 3600,
      maxLeaseTtl: 768 * 3600,
      plaintextCacheSize: 1024,
      ...(opts.revocation ? { revocation: opts.revocation } : {}),
      ...(opts.leaseWindow !== undefined ? { leaseWindow: opts.leaseWindow } : {}),
      ...(opts.userLockout ? { userLockout: opts.userLockout } : {}),
      ...(opts.auditDevices ? { auditDevices: opts.auditDevices } : {}),
      ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
    },
    { ...(opts.engines ? { engines: opts.engines } : {}), ...(opts.auditSinks ? { auditSinks: opts.auditSinks } : {}) },
  );
  const shares = opts.shares ?? 1;
  const { keys, rootToken } = await core.initialize(
    { secretShares: shares, secretThreshold: opts.threshold ?? (shares === 1 ? 1 : 3) },
    DEV_MOUNTS,
  );
  for (const k of keys.slice(0, opts.threshold ?? (shares === 1 ? 1 : 3))) await core.unseal(k);
  return {
    core,
    rootToken,
    keys,
    clock,
    request: async (operation, path, data = {}, token = rootToken) => (await core.handle({ operation, path, data, token })).response,
  };
}

/** A core on fresh inmem storage that nobody has initialised yet. */
export function newUninitializedCore(): Core {
  return composeCore({ storage: new InmemStorage(), storageType: 'inmem', clock: new ManualClock(), logger: silentLogger, defaultLeaseTtl: 3600, maxLeaseTtl: 3600 }, {});
}
