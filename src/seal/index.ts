export { SEAL_RECORDS, ShamirSeal, validateSealConfig, type SealConfig, type PreparedSeal } from './shamir-seal.js';
export { KeyShares, UnsealProgress } from './unseal-progress.js';
export { checkShareLength, splitKey, combineShares } from './shamir.js';
export { PgpKey } from './pgp.js';
