export { ShamirSeal, type SealConfig } from './shamir-seal.js';
export { UnsealProgress } from './unseal-progress.js';
export { splitKey, combineShares } from './shamir.js';
