export { Core, type CoreOptions, type SealStatus, type InitOptions } from './core.js';
export type { LogicalRequest, Handled } from './pipeline.js';
export type { BackendFactory, BackendContext, MountRequest } from './mounts/index.js';

