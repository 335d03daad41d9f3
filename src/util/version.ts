/**
 * Versions. Vault clients and test suites gate features on the server's version, so coffer
 * reports the Vault API level it implements as the semver core and its own release as build
 * metadata: "1.19.0+coffer.0.1.0" reads as a Vault 1.19 to a client and names coffer to a human.
 * The API level moves only when coffer implements what clients gate on for that release.
 */
export const VAULT_API_VERSION = '1.19.0';

/** coffer's own release (package.json's version). */
export const COFFER_VERSION = '0.1.0';

/** What sys/seal-status, sys/health and `coffer version` report. */
export const VERSION = `${VAULT_API_VERSION}+coffer.${COFFER_VERSION}`;
