export { approleBackend, approleRegistration } from './backend.js';
