import pino from 'pino';
import { DEFAULTS, sanitizedConfig, type ServerConfig } from './config/index.js';
import { DEV_MOUNTS, composeCore } from './compose.js';
import { LEASE_STORAGE_PREFIX, type Core } from './core/index.js';
import { createHandler, startListener, type RunningListener } from './http/index.js';
import { CachedStorage, InmemStorage, SqliteStorage, type StorageBackend } from './storage/index.js';
import { type Logger, systemClock } from './util/index.js';

/** Hot entries kept decrypted by the barrier (turned off with the storage cache by disable_cache). */
const PLAINTEXT_CACHE_SIZE = 16_384;
const PLAINTEXT_CACHE_BYTES = 16 * 1024 * 1024;

/** The composition root: the only module that constructs storage, core and listeners together. */
export interface RunningServer {
  readonly core: Core;
  readonly listeners: readonly RunningListener[];
  /** Finish in-flight requests, seal, and close storage. */
  close(): Promise<void>;
  /** What SIGHUP does: reopen the audit devices' files and connections (after log rotation). */
  reload(): Promise<void>;
}

export interface DevOptions {
  readonly rootTokenId: string;
  readonly listenAddress: string;
}

export function makeLogger(level: ServerConfig['logLevel']): Logger {
  const p = pino({ level, base: { service: 'coffer' } }, pino.destination(2));
  return {
    debug: (msg, f) => p.debug(f ?? {}, msg),
    info: (msg, f) => p.info(f ?? {}, msg),
    warn: (msg, f) => p.warn(f ?? {}, msg),
    error: (msg, f) => p.error(f ?? {}, msg),
  };
}

/** Why a listener could not start, in words (the host and port are named by the caller). */
function listenError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { hostname?: string };
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen: the host name does not resolve`;
    case 'EADDRINUSE':
      return 'cannot listen: the address is already in use';
    case 'EADDRNOTAVAIL':
      return 'cannot listen: the address is not on this machine';
    case 'EACCES':
      return 'cannot listen: permission denied (ports below 1024 need privileges)';
    case 'ENOENT':
      return `cannot read a TLS file: ${err.path ?? 'file not found'}`;
    default:
      return `cannot listen: ${err.message}`;
  }
}

/** The configuration `server -dev` runs with: inmem storage, plain HTTP on one address. */
export function devConfig(listenAddress: string): ServerConfig {
  return {
    storage: { type: 'inmem', path: '' },
    listeners: [
      {
        address: listenAddress,
        tls: null,
        maxRequestSize: DEFAULTS.maxRequestSize,
        headerTimeoutMs: DEFAULTS.headerTimeoutMs,
        readTimeoutMs: DEFAULTS.readTimeoutMs,
        idleTimeoutMs: DEFAULTS.idleTimeoutMs,
        jsonLimits: { maxDepth: 500, maxStringLength: 1_048_576, maxObjectEntries: 10_000, maxArrayElements: 10_000 },
        unauthenticatedMetricsAccess: false,
      },
    ],
    apiAddr: `http://${listenAddress}`,
    ui: false,
    defaultLeaseTtl: DEFAULTS.leaseTtl,
    maxLeaseTtl: DEFAULTS.leaseTtl,
    logLevel: 'info',
    disableMlock: true,
    cacheSize: DEFAULTS.cacheSize,
    cacheMaxBytes: DEFAULTS.cacheMaxBytes,
    leaseRevocation: DEFAULTS.leaseRevocation,
    userLockout: {},
    auditDevices: [],
    telemetry: DEFAULTS.telemetry,
  };
}

export async function startServer(
  config: ServerConfig,
  logger: Logger,
  dev?: DevOptions,
): Promise<RunningServer & { devKeys?: { unsealKey: string; rootToken: string } }> {
  const physical: StorageBackend = config.storage.type === 'sqlite' ? new SqliteStorage({ path: config.storage.path }) : new InmemStorage();
  // Like Vault, cache storage entries (ciphertext) in front of a backend that is not memory already.
  const storage = config.storage.type === 'inmem' || config.cacheSize === 0 ? physical : new CachedStorage(physical, config.cacheSize, config.cacheMaxBytes, [LEASE_STORAGE_PREFIX]);
  const core = composeCore({
    storage,
    storageType: config.storage.type,
    clock: systemClock,
    logger,
    defaultLeaseTtl: config.defaultLeaseTtl,
    maxLeaseTtl: config.maxLeaseTtl,
    plaintextCacheSize: config.cacheSize === 0 ? 0 : PLAINTEXT_CACHE_SIZE,
    plaintextCacheBytes: PLAINTEXT_CACHE_BYTES,
    revocation: config.leaseRevocation,
    userLockout: config.userLockout,
    auditDevices: config.auditDevices,
    telemetry: config.telemetry,
    sanitizedConfig: sanitizedConfig(config),
  });

  let devKeys: { unsealKey: string; rootToken: string } | undefined;
  if (dev) {
    const { keys, rootToken } = await core.initialize(
      { secretShares: 1, secretThreshold: 1, ...(dev.rootTokenId ? { rootTokenId: dev.rootTokenId } : {}) },
      DEV_MOUNTS,
    );
    await core.unseal(keys[0]!);
    devKeys = { unsealKey: Buffer.from(keys[0]!).toString('base64'), rootToken };
  }

  const listeners: RunningListener[] = [];
  try {
    for (const l of config.listeners) {
      const handler = createHandler({ core, logger, jsonLimits: l.jsonLimits, unauthenticatedMetricsAccess: l.unauthenticatedMetricsAccess });
      try {
        listeners.push(await startListener(l, handler, logger));
      } catch (e) {
        throw new Error(`listener "${l.address}": ${listenError(e)}`);
      }
    }
  } catch (e) {
    for (const l of listeners) await l.close(0);
    await storage.close();
    throw e;
  }

  return {
    core,
    listeners,
    ...(devKeys ? { devKeys } : {}),
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await core.seal();
      await storage.close();
    },
    async reload() {
      // A listener whose new files cannot be used keeps serving the old ones, and says so.
      for (const l of listeners) {
        try {
          l.reloadTls();
        } catch (e) {
          logger.error('reloading the listener\'s TLS certificate failed; it keeps the one it had', { address: `${l.address}:${l.port}`, error: e instanceof Error ? e.message : String(e) });
        }
      }
      await core.reopenAuditDevices();
    },
  };
}
