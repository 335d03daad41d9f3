export { ExpirationManager, DEFAULT_REVOCATION, renewTtl, type ExpirationOptions, type LeaseRoute, type RevocationPolicy, type RevokeOptions, type IrrevocableLease } from './expiration-manager.js';
export { checkLeaseId, type LeaseEntry, type RevokeFailure } from './lease-entry.js';
