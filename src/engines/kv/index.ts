export { kvBackend, kvVersion, type KvFactoryContext } from './backend.js';
