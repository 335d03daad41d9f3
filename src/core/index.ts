export { Core, LEASE_STORAGE_PREFIX, type CoreOptions } from './core.js';
export type { SealStatus, InitOptions } from './seal-status.js';
export type { LogicalRequest, Handled } from './pipeline.js';
export type { MountRequest } from './mounts/index.js';
export type { DeclaredAuditDevice } from './audit/audit-table.js';
export { parsePolicy } from './policy/index.js';
export { DEFAULT_TELEMETRY, type TelemetrySettings } from './telemetry/telemetry.js';
