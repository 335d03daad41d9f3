import { readFileSync } from 'node:fs';
import { parseHcl, HclSyntaxError, type HclItem, type HclValue } from '../hcl/index.js';
import { DEFAULT_JSON_LIMITS } from '../http/index.js';
import { openSslCiphers, parseAddress } from '../http/index.js';
import { parseDurationSeconds } from '../util/index.js';
import { DEFAULTS, type LeaseRevocationConfig, type ListenerSettings, type LogLevel, type ServerConfig, type StorageConfig, type UserLockoutSettings, type AuditDeviceSettings, type TelemetryConfig } from './schema.js';

/** A configuration error that names the file, line and key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Fail = (item: { line: number }, message: string) => ConfigError;

const TOP_KEYS = new Set([
  'storage', 'backend', 'listener', 'api_addr', 'cluster_addr', 'cluster_name', 'ui', 'default_lease_ttl', 'max_lease_ttl',
  'log_level', 'log_format', 'disable_mlock', 'pid_file', 'disable_cache', 'cache_size', 'cache_max_bytes', 'lease_revocation',
  'user_lockout', 'audit', 'telemetry',
]);
const LISTENER_KEYS = new Set([
  'address', 'cluster_address', 'tls_disable', 'tls_cert_file', 'tls_key_file', 'tls_min_version', 'max_request_size',
  'tls_require_and_verify_client_cert', 'tls_client_ca_file', 'tls_disable_client_certs', 'tls_max_version', 'tls_cipher_suites',
  'max_request_duration', 'http_read_header_timeout', 'http_read_timeout', 'http_idle_timeout', 'http_write_timeout',
  'max_json_depth', 'max_json_string_value_length', 'max_json_object_entry_count', 'max_json_array_element_count',
  'telemetry',
]);
const LOG_LEVELS: Record<string, LogLevel> = { trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', err: 'error', error: 'error' };

function str(v: HclValue, key: string, fail: Fail): string {
  if (v.kind === 'string') return v.value;
  if (v.kind === 'number') return String(v.value);
  throw fail(v, `"${key}" must be a string`);
}

function bool(v: HclValue, key: string, fail: Fail): boolean {
  if (v.kind === 'bool') return v.value;
  if (v.kind === 'string' && ['true', '1', 'false', '0'].includes(v.value.toLowerCase())) return ['true', '1'].includes(v.value.toLowerCase());
  if (v.kind === 'number' && (v.value === 0 || v.value === 1)) return v.value === 1;
  throw fail(v, `"${key}" must be a boolean`);
}

function int(v: HclValue, key: string, fail: Fail, min = 1): number {
  const n = v.kind === 'number' ? v.value : v.kind === 'string' && /^-?\d+$/.test(v.value) ? Number(v.value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw fail(v, `"${key}" must be an integer of at least ${min}`);
  return n;
}

function seconds(v: HclValue, key: string, fail: Fail): number {
  try {
    return parseDurationSeconds(v.kind === 'string' || v.kind === 'number' ? v.value : null, key);
  } catch {
    throw fail(v, `"${key}" must be a duration such as "30s" or "768h"`);
  }
}

/** The single labelled block of a `storage "type" { ... }` or `listener "tcp" { ... }` item. */
function block(item: HclItem, fail: Fail): { label: string; items: readonly HclItem[]; line: number } {
  if (item.value.kind !== 'object' || item.value.items.length !== 1) throw fail(item, `"${item.key}" must be a block with one label, e.g. ${item.key} "type" { ... }`);
  const inner = item.value.items[0]!;
  if (inner.value.kind !== 'object') throw fail(item, `"${item.key} \\"${inner.key}\\"" must be a block`);
  return { label: inner.key, items: inner.value.items, line: inner.line };
}

/** `lease_revocation { max_attempts = 10  initial_backoff = "10s"  max_backoff = "10m" }` */
function parseLeaseRevocation(item: HclItem, fail: Fail): LeaseRevocationConfig {
  if (item.value.kind !== 'object') throw fail(item, '"lease_revocation" must be a block');
  let { maxAttempts, initialBackoff, maxBackoff }: LeaseRevocationConfig = DEFAULTS.leaseRevocation;
  for (const i of item.value.items) {
    if (i.key === 'max_attempts') maxAttempts = int(i.value, i.key, fail);
    else if (i.key === 'initial_backoff') initialBackoff = seconds(i.value, i.key, fail);
    else if (i.key === 'max_backoff') maxBackoff = seconds(i.value, i.key, fail);
    else throw fail(i, `unknown key "${i.key}" in lease_revocation`);
  }
  if (initialBackoff < 1) throw fail(item, '"initial_backoff" must be at least 1s');
  if (maxBackoff < initialBackoff) throw fail(item, '"max_backoff" cannot be less than "initial_backoff"');
  return { maxAttempts, initialBackoff, maxBackoff };
}

/** The auth method types Vault's user lockout covers, and "all" for every one of them. */
const LOCKOUT_TARGETS = new Set(['all', 'userpass', 'approle', 'ldap']);

/** `user_lockout "all" { lockout_threshold = 5  lockout_duration = "15m"  lockout_counter_reset = "15m"  disable_lockout = false }` */
function parseUserLockout(item: HclItem, fail: Fail): { target: string; settings: UserLockoutSettings } {
  const { label, items } = block(item, fail);
  if (!LOCKOUT_TARGETS.has(label)) throw fail(item, `user_lockout "${label}": the label must be "all", "userpass", "approle" or "ldap"`);
  const settings: { -readonly [K in keyof UserLockoutSettings]: UserLockoutSettings[K] } = {};
  for (const i of items) {
    if (i.key === 'lockout_threshold') settings.threshold = int(i.value, i.key, fail, 0);
    else if (i.key === 'lockout_duration') settings.duration = seconds(i.value, i.key, fail);
    else if (i.key === 'lockout_counter_reset') settings.counterReset = seconds(i.value, i.key, fail);
    else if (i.key === 'disable_lockout') settings.disable = bool(i.value, i.key, fail);
    else throw fail(i, `unknown key "${i.key}" in user_lockout`);
  }
  return { target: label, settings };
}

const AUDIT_KEYS = ['description', 'local', 'options'];

/**
 * `audit "file" "to-file" { description = "..."  local = false  options { file_path = "/var/log/coffer/audit.log" } }`
 * (as OpenBao 2.7 declares audit devices): the type, then the path the device is enabled at.
 */
function parseAudit(item: HclItem, fail: Fail): AuditDeviceSettings {
  const { label: type, items: labelled } = block(item, fail);
  const inner = labelled.length === 1 ? labelled[0]! : null;
  // `audit "file" { options { ... } }` reads as a device at "options": it lacks its path label.
  if (!inner || inner.value.kind !== 'object' || AUDIT_KEYS.includes(inner.key)) throw fail(item, 'an audit block has two labels, its type and its path: audit "file" "file" { options { file_path = "..." } }');
  const path = inner.key;
  let description = '';
  let local = false;
  const options: Record<string, string> = {};
  for (const i of inner.value.items) {
    if (i.key === 'description') description = str(i.value, i.key, fail);
    else if (i.key === 'local') local = bool(i.value, i.key, fail);
    else if (i.key === 'options') {
      if (i.value.kind !== 'object') throw fail(i, `"options" of audit "${type}" "${path}" must be a block of key = "value"`);
      for (const o of i.value.items) {
        if (Object.hasOwn(options, o.key)) throw fail(o, `option "${o.key}" is given twice`);
        options[o.key] = o.value.kind === 'bool' ? String(o.value.value) : str(o.value, o.key, fail);
      }
    } else throw fail(i, `unknown key "${i.key}" in audit "${type}" "${path}"`);
  }
  return { type, path, description, local, options };
}

function parseStorage(item: HclItem, fail: Fail): StorageConfig {
  const { label, items } = block(item, fail);
  if (label === 'inmem') {
    for (const i of items) throw fail(i, `unknown key "${i.key}" in storage "inmem"`);
    return { type: 'inmem', path: '' };
  }
  if (label !== 'sqlite') throw fail(item, `unsupported storage type "${label}": use "sqlite" or "inmem"`);
  let path = '';
  for (const i of items) {
    if (i.key === 'path') path = str(i.value, 'path', fail);
    else throw fail(i, `unknown key "${i.key}" in storage "sqlite"`);
  }
  if (path === '') throw fail(item, 'storage "sqlite" needs a "path"');
  return { type: 'sqlite', path };
}

function parseListener(item: HclItem, fail: Fail): ListenerSettings {
  const { label, items, line } = block(item, fail);
  if (label !== 'tcp') throw fail(item, `unsupported listener type "${label}": use "tcp"`);
  let address: string = DEFAULTS.address;
  let tlsDisable = false;
  let certFile = '';
  let keyFile = '';
  let minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2';
  let maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3';
  let ciphers = '';
  let requireClientCert = false;
  let disableClientCerts = false;
  let clientCaFile = '';
  let maxRequestSize: number = DEFAULTS.maxRequestSize;
  let headerTimeoutMs: number = DEFAULTS.headerTimeoutMs;
  let readTimeoutMs: number = DEFAULTS.readTimeoutMs;
  let idleTimeoutMs: number = DEFAULTS.idleTimeoutMs;
  let unauthenticatedMetricsAccess = false;
  const json = { ...DEFAULT_JSON_LIMITS };
  for (const i of items) {
    if (!LISTENER_KEYS.has(i.key)) throw fail(i, `unknown key "${i.key}" in listener "tcp"`);
    const v = i.value;
    switch (i.key) {
      case 'address':
        address = str(v, i.key, fail);
        try {
          parseAddress(address);
        } catch (e) {
          throw fail(i, (e as Error).message);
        }
        break;
      case 'tls_disable':
        tlsDisable = bool(v, i.key, fail);
        break;
      case 'tls_cert_file':
        certFile = str(v, i.key, fail);
        break;
      case 'tls_key_file':
        keyFile = str(v, i.key, fail);
        break;
      case 'tls_min_version': {
        const s = str(v, i.key, fail);
        if (s !== 'tls12' && s !== 'tls13') throw fail(i, '"tls_min_version" must be "tls12" or "tls13"');
        minVersion = s === 'tls12' ? 'TLSv1.2' : 'TLSv1.3';
        break;
      }
      case 'tls_max_version': {
        const s = str(v, i.key, fail);
        if (s !== 'tls12' && s !== 'tls13') throw fail(i, '"tls_max_version" must be "tls12" or "tls13" (TLS 1.0 and 1.1 are not offered)');
        maxVersion = s === 'tls12' ? 'TLSv1.2' : 'TLSv1.3';
        break;
      }
      case 'tls_cipher_suites':
        try {
          ciphers = openSslCiphers(str(v, i.key, fail).split(','));
        } catch (e) {
          throw fail(i, (e as Error).message);
        }
        break;
      case 'tls_require_and_verify_client_cert':
        requireClientCert = bool(v, i.key, fail);
        break;
      case 'tls_disable_client_certs':
        disableClientCerts = bool(v, i.key, fail);
        break;
      case 'tls_client_ca_file':
        clientCaFile = str(v, i.key, fail);
        break;
      case 'max_request_size': {
        // As Vault: 0 is the default, and a negative size turns the limit off.
        const n = int(v, i.key, fail, Number.MIN_SAFE_INTEGER);
        maxRequestSize = n === 0 ? DEFAULTS.maxRequestSize : n < 0 ? Infinity : n;
        break;
      }
      case 'http_read_header_timeout':
        headerTimeoutMs = seconds(v, i.key, fail) * 1000;
        break;
      case 'http_read_timeout':
        readTimeoutMs = seconds(v, i.key, fail) * 1000;
        break;
      case 'http_idle_timeout':
        idleTimeoutMs = seconds(v, i.key, fail) * 1000;
        break;
      case 'max_json_depth':
        json.maxDepth = int(v, i.key, fail);
        break;
      case 'max_json_string_value_length':
        json.maxStringLength = int(v, i.key, fail);
        break;
      case 'max_json_object_entry_count':
        json.maxObjectEntries = int(v, i.key, fail);
        break;
      case 'max_json_array_element_count':
        json.maxArrayElements = int(v, i.key, fail);
        break;
      case 'telemetry':
        if (v.kind !== 'object') throw fail(i, 'the listener\'s "telemetry" must be a block');
        for (const t of v.items) {
          if (t.key === 'unauthenticated_metrics_access') unauthenticatedMetricsAccess = bool(t.value, t.key, fail);
          else throw fail(t, `unknown key "${t.key}" in the listener's telemetry block`);
        }
        break;
      default:
        break; // accepted for compatibility, no effect yet: cluster_address, max_request_duration, http_write_timeout
    }
  }
  if (!tlsDisable && (certFile === '' || keyFile === '')) {
    throw fail({ line }, 'listener "tcp" needs tls_cert_file and tls_key_file, or tls_disable = true');
  }
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') throw fail({ line }, '"tls_max_version" is below "tls_min_version"');
  if (requireClientCert && disableClientCerts) throw fail({ line }, '"tls_require_and_verify_client_cert" cannot be combined with "tls_disable_client_certs"');
  if (headerTimeoutMs <= 0 || readTimeoutMs <= 0) throw fail({ line }, 'listener timeouts must be positive');
  return {
    address,
    tls: tlsDisable ? null : { certFile, keyFile, minVersion, maxVersion, ciphers, clientCerts: requireClientCert ? 'require' : disableClientCerts ? 'none' : 'request', clientCaFile },
    maxRequestSize,
    headerTimeoutMs: Math.min(headerTimeoutMs, readTimeoutMs),
    readTimeoutMs,
    idleTimeoutMs,
    jsonLimits: json,
    unauthenticatedMetricsAccess,
  };
}

/** `telemetry { prometheus_retention_time = "24h"  disable_hostname = true  usage_gauge_period = "10m" }` */
function parseTelemetry(item: HclItem, fail: Fail): TelemetryConfig {
  if (item.value.kind !== 'object') throw fail(item, '"telemetry" must be a block');
  let { prometheusRetentionTime, disableHostname, usageGaugePeriod }: TelemetryConfig = DEFAULTS.telemetry;
  for (const i of item.value.items) {
    if (i.key === 'prometheus_retention_time') prometheusRetentionTime = seconds(i.value, i.key, fail);
    else if (i.key === 'disable_hostname') disableHostname = bool(i.value, i.key, fail);
    else if (i.key === 'usage_gauge_period') {
      // Vault: "none" turns the usage gauges off.
      usageGaugePeriod = i.value.kind === 'string' && i.value.value === 'none' ? 0 : seconds(i.value, i.key, fail);
      if (usageGaugePeriod !== 0 && usageGaugePeriod < 1) throw fail(i, '"usage_gauge_period" must be at least 1s, or "none"');
    } else if (TELEMETRY_ELSEWHERE.has(i.key)) continue;
    else throw fail(i, `unknown key "${i.key}" in telemetry`);
  }
  return { prometheusRetentionTime, disableHostname, usageGaugePeriod };
}

/** Vault's telemetry keys for other sinks (statsd, DogStatsD, Circonus, Stackdriver): accepted, not used. */
const TELEMETRY_ELSEWHERE = new Set([
  'statsite_address', 'statsd_address', 'dogstatsd_addr', 'dogstatsd_tags', 'circonus_api_token', 'circonus_api_app', 'circonus_api_url',
  'circonus_submission_interval', 'circonus_submission_url', 'circonus_check_id', 'circonus_check_force_metric_activation', 'circonus_check_instance_id',
  'circonus_check_search_tag', 'circonus_check_display_name', 'circonus_check_tags', 'circonus_broker_id', 'circonus_broker_select_tag',
  'stackdriver_project_id', 'stackdriver_location', 'stackdriver_namespace', 'stackdriver_debug_logs', 'maximum_gauge_cardinality',
  'lease_metrics_epsilon', 'num_lease_metrics_buckets', 'add_lease_metrics_namespace_labels', 'filter_default', 'prefix_filter', 'metrics_prefix',
  'enable_hostname_label', 'add_mount_point_rollback_metrics',
]);

/** Parse configuration text (HCL or JSON). `file` is used in error messages. */
export function parseConfig(text: string, file: string): ServerConfig {
  const fail: Fail = (item, message) => new ConfigError(`${file}:${item.line}: ${message}`);
  let root;
  try {
    root = parseHcl(text);
  } catch (e) {
    if (e instanceof HclSyntaxError) throw new ConfigError(`${file}:${e.line}: ${e.message.replace(/^line \d+: /, '')}`);
    throw e;
  }
  let storage: StorageConfig | null = null;
  const listeners: ListenerSettings[] = [];
  let apiAddr = '';
  let ui = false;
  let defaultLeaseTtl: number = DEFAULTS.leaseTtl;
  let maxLeaseTtl: number = DEFAULTS.leaseTtl;
  let logLevel: LogLevel = 'info';
  let disableMlock = false;
  let cacheSize: number = DEFAULTS.cacheSize;
  let cacheMaxBytes: number = DEFAULTS.cacheMaxBytes;
  let disableCache = false;
  let leaseRevocation: LeaseRevocationConfig = DEFAULTS.leaseRevocation;
  const userLockout: Record<string, UserLockoutSettings> = {};
  const auditDevices: AuditDeviceSettings[] = [];
  let telemetry: TelemetryConfig = DEFAULTS.telemetry;
  for (const item of root.items) {
    if (!TOP_KEYS.has(item.key)) throw fail(item, `unknown key "${item.key}"`);
    switch (item.key) {
      case 'storage':
      case 'backend':
        if (storage) throw fail(item, 'only one storage block is allowed');
        storage = parseStorage(item, fail);
        break;
      case 'listener':
        listeners.push(parseListener(item, fail));
        break;
      case 'api_addr':
        apiAddr = str(item.value, item.key, fail);
        break;
      case 'ui':
        ui = bool(item.value, item.key, fail);
        break;
      case 'default_lease_ttl':
        defaultLeaseTtl = seconds(item.value, item.key, fail);
        break;
      case 'max_lease_ttl':
        maxLeaseTtl = seconds(item.value, item.key, fail);
        break;
      case 'log_level': {
        const level = LOG_LEVELS[str(item.value, item.key, fail).toLowerCase()];
        if (!level) throw fail(item, '"log_level" must be one of trace, debug, info, warn, error');
        logLevel = level;
        break;
      }
      case 'disable_mlock':
        disableMlock = bool(item.value, item.key, fail);
        break;
      case 'cache_size':
        cacheSize = int(item.value, item.key, fail);
        break;
      case 'cache_max_bytes':
        cacheMaxBytes = int(item.value, item.key, fail, 1024 * 1024);
        break;
      case 'disable_cache':
        disableCache = bool(item.value, item.key, fail);
        break;
      case 'lease_revocation':
        leaseRevocation = parseLeaseRevocation(item, fail);
        break;
      case 'user_lockout': {
        const { target, settings } = parseUserLockout(item, fail);
        if (Object.hasOwn(userLockout, target)) throw fail(item, `only one user_lockout "${target}" block is allowed`);
        userLockout[target] = settings;
        break;
      }
      case 'telemetry':
        telemetry = parseTelemetry(item, fail);
        break;
      case 'audit': {
        const device = parseAudit(item, fail);
        const norm = (p: string) => p.replace(/^\/+|\/+$/g, '');
        if (auditDevices.some((d) => norm(d.path) === norm(device.path))) throw fail(item, `only one audit device may be declared at "${device.path}"`);
        auditDevices.push(device);
        break;
      }
      default:
        break; // cluster_addr, cluster_name, pid_file, log_format: accepted, no effect yet
    }
  }
  if (!storage) throw new ConfigError(`${file}: a storage block is required, e.g. storage "sqlite" { path = "coffer.db" }`);
  if (listeners.length === 0) throw new ConfigError(`${file}: at least one listener "tcp" block is required`);
  if (defaultLeaseTtl > maxLeaseTtl) throw new ConfigError(`${file}: default_lease_ttl cannot exceed max_lease_ttl`);
  return Object.freeze({ storage, listeners, apiAddr, ui, defaultLeaseTtl, maxLeaseTtl, logLevel, disableMlock, cacheSize: disableCache ? 0 : cacheSize, cacheMaxBytes, leaseRevocation, userLockout, auditDevices, telemetry });
}

export function loadConfig(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the configuration file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, file);
}
