import type { ServerConfig } from './schema.js';

/**
 * The configuration as sys/config/state/sanitized answers it, in Vault's keys: what the server
 * runs with, and nothing secret (storage is named by type only, as Vault does; file paths of
 * certificates and keys are not secrets). Durations are in seconds.
 */
export function sanitizedConfig(c: ServerConfig): Record<string, unknown> {
  return {
    api_addr: c.apiAddr,
    cache_size: c.cacheSize,
    disable_cache: c.cacheSize === 0,
    disable_mlock: c.disableMlock,
    default_lease_ttl: c.defaultLeaseTtl,
    max_lease_ttl: c.maxLeaseTtl,
    enable_ui: c.ui,
    log_level: c.logLevel,
    listeners: c.listeners.map((l) => ({
      type: 'tcp',
      config: {
        address: l.address,
        tls_disable: l.tls === null,
        ...(l.tls
          ? {
              tls_cert_file: l.tls.certFile,
              tls_key_file: l.tls.keyFile,
              tls_min_version: l.tls.minVersion === 'TLSv1.3' ? 'tls13' : 'tls12',
              tls_max_version: l.tls.maxVersion === 'TLSv1.2' ? 'tls12' : 'tls13',
              tls_require_and_verify_client_cert: l.tls.clientCerts === 'require',
              tls_disable_client_certs: l.tls.clientCerts === 'none',
              tls_client_ca_file: l.tls.clientCaFile,
            }
          : {}),
        max_request_size: Number.isFinite(l.maxRequestSize) ? l.maxRequestSize : -1,
        telemetry: { unauthenticated_metrics_access: l.unauthenticatedMetricsAccess },
      },
    })),
    seals: [{ type: 'shamir', disabled: false }],
    storage: { type: c.storage.type, cluster_addr: '', redirect_addr: c.apiAddr, disable_clustering: true },
    telemetry: {
      prometheus_retention_time: c.telemetry.prometheusRetentionTime,
      disable_hostname: c.telemetry.disableHostname,
      usage_gauge_period: c.telemetry.usageGaugePeriod,
    },
    audit_devices: c.auditDevices.map((d) => ({ type: d.type, path: d.path, description: d.description, local: d.local })),
  };
}
