export { sysBackend } from './sys-backend.js';
export type { SysDeps } from './sys-deps.js';
