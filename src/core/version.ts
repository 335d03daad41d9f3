/** The version coffer reports in seal-status and health. */
export const VERSION = '0.1.0';
