export { cubbyholeBackend } from './backend.js';
