export { userpassBackend, userpassRegistration } from './backend.js';
