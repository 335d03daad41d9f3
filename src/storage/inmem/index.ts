export { InmemStorage } from './inmem.js';
