import type { JsonLimits, ListenerConfig } from '../http/index.js';

/** The server configuration, parsed once from HCL or JSON and frozen. TTLs in seconds. */
export interface StorageConfig {
  readonly type: 'sqlite' | 'inmem';
  /** SQLite file path; "" for inmem. */
  readonly path: string;
}

/** A listener block: what the HTTP listener needs, plus its JSON limits. */
export interface ListenerSettings extends ListenerConfig {
  readonly jsonLimits: JsonLimits;
  /** The listener's telemetry block: sys/metrics without a token. */
  readonly unauthenticatedMetricsAccess: boolean;
}

/** The `telemetry` block (seconds). */
export interface TelemetryConfig {
  readonly prometheusRetentionTime: number;
  readonly disableHostname: boolean;
  /** 0: the usage gauges are off ("none"). */
  readonly usageGaugePeriod: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** One `user_lockout` stanza; what it leaves out comes from the next level (Vault's defaults last). Seconds. */
export interface UserLockoutSettings {
  readonly threshold?: number;
  readonly duration?: number;
  readonly counterReset?: number;
  readonly disable?: boolean;
}

export interface ServerConfig {
  readonly storage: StorageConfig;
  readonly listeners: readonly ListenerSettings[];
  readonly apiAddr: string;
  readonly ui: boolean;
  readonly defaultLeaseTtl: number;
  readonly maxLeaseTtl: number;
  readonly logLevel: LogLevel;
  /** Accepted for compatibility; see docs/configuration.md for what it means in Node. */
  readonly disableMlock: boolean;
  /** Entries in the storage cache (Vault: cache_size); 0 when disable_cache is set. */
  readonly cacheSize: number;
  /** Most bytes the storage cache may take (coffer's addition: cache_max_bytes). */
  readonly cacheMaxBytes: number;
  /** How failed lease revocations are retried (coffer's addition: the lease_revocation block). */
  readonly leaseRevocation: LeaseRevocationConfig;
  /** user_lockout stanzas by target: "all", or an auth method type. */
  readonly userLockout: Readonly<Record<string, UserLockoutSettings>>;
  /** `audit "type" "path" { ... }` stanzas: devices opened at every unseal, before anything is served. */
  readonly auditDevices: readonly AuditDeviceSettings[];
  readonly telemetry: TelemetryConfig;
}

/** One declared audit device, as `sys/audit/:path` would enable it. */
export interface AuditDeviceSettings {
  readonly type: string;
  readonly path: string;
  readonly description: string;
  readonly local: boolean;
  readonly options: Readonly<Record<string, string>>;
}

/** Retries of a failed revocation: exponential backoff from initialBackoff, capped, then irrevocable. Seconds. */
export interface LeaseRevocationConfig {
  readonly maxAttempts: number;
  readonly initialBackoff: number;
  readonly maxBackoff: number;
}

/** Vault's defaults. */
export const DEFAULTS = {
  leaseTtl: 768 * 3600,
  maxRequestSize: 32 * 1024 * 1024,
  headerTimeoutMs: 10_000,
  readTimeoutMs: 30_000,
  idleTimeoutMs: 5 * 60_000,
  address: '127.0.0.1:8200',
  cacheSize: 131_072,
  cacheMaxBytes: 64 * 1024 * 1024,
  /** Ten attempts over about 40 minutes: a 20-minute database outage orphans nobody (vault#8602). */
  leaseRevocation: { maxAttempts: 10, initialBackoff: 10, maxBackoff: 600 },
  /** Vault's: Prometheus metrics kept 24h, gauges named with the host, usage counted every 10 minutes. */
  telemetry: { prometheusRetentionTime: 24 * 3600, disableHostname: false, usageGaugePeriod: 600 },
} as const;
