export { cubbyholeBackend, cubbyholeRegistration } from './backend.js';
