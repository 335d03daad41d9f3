import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, sanitizedConfig } from './index.js';

const BASE = `
storage "sqlite" {
  path = "/var/lib/coffer/coffer.db"
}
listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = true
}
`;

describe('parseConfig', () => {
  it('takes max_request_size as Vault does: 0 for the default, negative for no limit', () => {
    const size = (v: string) => parseConfig(`storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:8200"\n  tls_disable = true\n  max_request_size = ${v}\n}\n`, 'c.hcl').listeners[0]!.maxRequestSize;
    assert.equal(size('0'), 33554432);
    assert.equal(size('-1'), Infinity);
    assert.equal(size('1024'), 1024);
  });

  it('reads Vault\'s HCL format with every supported key', () => {
    const c = parseConfig(
      `${BASE}
listener "tcp" {
  address = "0.0.0.0:8300"
  tls_cert_file = "/etc/coffer/tls.crt"
  tls_key_file = "/etc/coffer/tls.key"
  tls_min_version = "tls13"
  tls_max_version = "tls13"
  tls_cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256"
  tls_require_and_verify_client_cert = true
  tls_client_ca_file = "/etc/coffer/clients-ca.pem"
  max_request_size = 1048576
  http_read_header_timeout = "5s"
  max_json_depth = 100
}
api_addr = "https://coffer.example.com:8200"
ui = true
default_lease_ttl = "1h"
max_lease_ttl = "24h"
log_level = "warn"
disable_mlock = true
`,
      'coffer.hcl',
    );
    assert.deepEqual(c.storage, { type: 'sqlite', path: '/var/lib/coffer/coffer.db' });
    assert.equal(c.listeners.length, 2);
    assert.equal(c.listeners[0]!.tls, null);
    assert.deepEqual(c.listeners[1]!.tls, {
      certFile: '/etc/coffer/tls.crt',
      keyFile: '/etc/coffer/tls.key',
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      clientCerts: 'require',
      clientCaFile: '/etc/coffer/clients-ca.pem',
    });
    assert.equal(c.listeners[1]!.maxRequestSize, 1048576);
    assert.equal(c.listeners[1]!.headerTimeoutMs, 5000);
    assert.equal(c.listeners[1]!.jsonLimits.maxDepth, 100);
    assert.equal(c.listeners[0]!.maxRequestSize, 32 * 1024 * 1024);
    assert.equal(c.defaultLeaseTtl, 3600);
    assert.equal(c.maxLeaseTtl, 86400);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.ui, true);
    assert.equal(c.disableMlock, true);
    assert.ok(Object.isFrozen(c));
  });

  it('bounds the storage cache in entries and in bytes, both off with disable_cache', () => {
    const defaults = parseConfig(BASE, 'coffer.hcl');
    assert.deepEqual([defaults.cacheSize, defaults.cacheMaxBytes], [131072, 64 * 1024 * 1024]);
    const c = parseConfig(`${BASE}\ncache_size = 1000\ncache_max_bytes = "268435456"\n`, 'coffer.hcl');
    assert.deepEqual([c.cacheSize, c.cacheMaxBytes], [1000, 268435456]);
    assert.equal(parseConfig(`${BASE}\ndisable_cache = true\n`, 'coffer.hcl').cacheSize, 0);
    assert.throws(() => parseConfig(`${BASE}\ncache_max_bytes = 4096\n`, 'coffer.hcl'), /"cache_max_bytes" must be an integer of at least 1048576/);
  });

  it('reads how failed lease revocations are retried, with Vault-style durations', () => {
    assert.deepEqual(parseConfig(BASE, 'coffer.hcl').leaseRevocation, { maxAttempts: 10, initialBackoff: 10, maxBackoff: 600 });
    const c = parseConfig(`${BASE}\nlease_revocation {\n  max_attempts = 20\n  initial_backoff = "30s"\n  max_backoff = "1h"\n}\n`, 'coffer.hcl');
    assert.deepEqual(c.leaseRevocation, { maxAttempts: 20, initialBackoff: 30, maxBackoff: 3600 });
    assert.throws(() => parseConfig(`${BASE}\nlease_revocation {\n  initial_backoff = "1m"\n  max_backoff = "10s"\n}\n`, 'coffer.hcl'), /"max_backoff" cannot be less than "initial_backoff"/);
    assert.throws(() => parseConfig(`${BASE}\nlease_revocation {\n  retries = 3\n}\n`, 'coffer.hcl'), /unknown key "retries" in lease_revocation/);
  });

  it('reads user_lockout stanzas for all methods and for one type', () => {
    assert.deepEqual(parseConfig(BASE, 'coffer.hcl').userLockout, {});
    const c = parseConfig(`${BASE}\nuser_lockout "all" {\n  lockout_threshold = "5"\n  lockout_duration = "15m"\n}\nuser_lockout "userpass" {\n  lockout_counter_reset = "5m"\n  disable_lockout = "false"\n}\n`, 'coffer.hcl');
    assert.deepEqual(c.userLockout, { all: { threshold: 5, duration: 900 }, userpass: { counterReset: 300, disable: false } });
    assert.throws(() => parseConfig(`${BASE}\nuser_lockout "github" {\n  lockout_threshold = 3\n}\n`, 'coffer.hcl'), /the label must be "all", "userpass", "approle" or "ldap"/);
    assert.throws(() => parseConfig(`${BASE}\nuser_lockout "all" {\n  threshold = 3\n}\n`, 'coffer.hcl'), /unknown key "threshold" in user_lockout/);
  });

  it('reads declared audit devices: type and path, description, local and options', () => {
    assert.deepEqual(parseConfig(BASE, 'coffer.hcl').auditDevices, []);
    const c = parseConfig(
      `${BASE}\naudit "file" "to-stdout" {\n  description = "all to stdout"\n  options {\n    file_path = "/dev/stdout"\n    log_raw = true\n  }\n}\naudit "syslog" "syslog/" {\n  local = true\n  options = { tag = "coffer", facility = "LOCAL0" }\n}\n`,
      'coffer.hcl',
    );
    assert.deepEqual(c.auditDevices, [
      { type: 'file', path: 'to-stdout', description: 'all to stdout', local: false, options: { file_path: '/dev/stdout', log_raw: 'true' } },
      { type: 'syslog', path: 'syslog/', description: '', local: true, options: { tag: 'coffer', facility: 'LOCAL0' } },
    ]);
    assert.throws(() => parseConfig(`${BASE}\naudit "file" {\n  options { file_path = "x" }\n}\n`, 'coffer.hcl'), /two labels, its type and its path/);
    assert.throws(() => parseConfig(`${BASE}\naudit "file" "a" {\n  filepath = "x"\n}\n`, 'coffer.hcl'), /unknown key "filepath" in audit "file" "a"/);
    assert.throws(() => parseConfig(`${BASE}\naudit "file" "a" {}\naudit "file" "a/" {}\n`, 'coffer.hcl'), /only one audit device may be declared at "a\/"/);
  });

  it("reads the telemetry block and a listener's telemetry block", () => {
    const base = parseConfig(BASE, 'coffer.hcl');
    assert.deepEqual(base.telemetry, { prometheusRetentionTime: 86_400, disableHostname: false, usageGaugePeriod: 600 });
    assert.equal(base.listeners[0]!.unauthenticatedMetricsAccess, false);
    const c = parseConfig(
      `storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  telemetry {\n    unauthenticated_metrics_access = true\n  }\n}\ntelemetry {\n  prometheus_retention_time = "30s"\n  disable_hostname = true\n  usage_gauge_period = "none"\n  statsd_address = "127.0.0.1:8125"\n}\n`,
      'coffer.hcl',
    );
    assert.deepEqual(c.telemetry, { prometheusRetentionTime: 30, disableHostname: true, usageGaugePeriod: 0 });
    assert.equal(c.listeners[0]!.unauthenticatedMetricsAccess, true);
    assert.throws(() => parseConfig(`${BASE}\ntelemetry {\n  prometheus_retention = "1h"\n}\n`, 'coffer.hcl'), /unknown key "prometheus_retention" in telemetry/);
    assert.throws(() => parseConfig(`${BASE}\ntelemetry {\n  usage_gauge_period = "soon"\n}\n`, 'coffer.hcl'), /"usage_gauge_period" must be a duration/);
  });

  it('gives sys/config/state/sanitized the configuration without secrets', () => {
    const c = parseConfig(`storage "sqlite" {\n  path = "/var/lib/coffer/coffer.db"\n}\nlistener "tcp" {\n  address = "0.0.0.0:8200"\n  tls_cert_file = "/etc/coffer/tls.crt"\n  tls_key_file = "/etc/coffer/tls.key"\n}\naudit "socket" "siem" {\n  options {\n    address = "siem:9090"\n  }\n}\n`, 'coffer.hcl');
    const s = sanitizedConfig(c);
    assert.deepEqual(s['storage'], { type: 'sqlite', cluster_addr: '', redirect_addr: '', disable_clustering: true });
    assert.deepEqual((s['listeners'] as { config: Record<string, unknown> }[])[0]!.config['tls_cert_file'], '/etc/coffer/tls.crt');
    assert.deepEqual(s['audit_devices'], [{ type: 'socket', path: 'siem', description: '', local: false }]);
    assert.ok(!JSON.stringify(s).includes('coffer.db'), 'no storage detail');
  });

  it('reads the same configuration written as JSON', () => {
    const c = parseConfig(JSON.stringify({ storage: { inmem: {} }, listener: { tcp: { address: '127.0.0.1:8201', tls_disable: 'true' } }, default_lease_ttl: 600 }), 'coffer.json');
    assert.equal(c.storage.type, 'inmem');
    assert.equal(c.listeners[0]!.address, '127.0.0.1:8201');
    assert.equal(c.defaultLeaseTtl, 600);
  });

  it('names the file, line and key of an unknown key or bad value', () => {
    const cases: [string, RegExp][] = [
      [`${BASE}\nlistner "tcp" {}\n`, /^coffer\.hcl:10: unknown key "listner"$/],
      [`${BASE}\nmax_lease_ttl = "forever"\n`, /^coffer\.hcl:10: "max_lease_ttl" must be a duration/],
      [BASE.replace('tls_disable = true', 'tls_disable = true\n  adress = "x"'), /^coffer\.hcl:8: unknown key "adress" in listener "tcp"$/],
      [BASE.replace('path = ', 'paht = '), /^coffer\.hcl:3: unknown key "paht" in storage "sqlite"$/],
      [BASE.replace('"sqlite"', '"consul"'), /^coffer\.hcl:2: unsupported storage type "consul"/],
      [BASE.replace('tls_disable = true', 'tls_disable = "maybe"'), /^coffer\.hcl:7: "tls_disable" must be a boolean$/],
      [BASE.replace('tls_disable = true', ''), /needs tls_cert_file and tls_key_file, or tls_disable = true/],
      [BASE.replace('tls_disable = true', 'tls_disable = true\n  tls_require_and_verify_client_cert = true\n  tls_disable_client_certs = true'), /cannot be combined/],
      [BASE.replace('127.0.0.1:8200', 'localhost'), /^coffer\.hcl:6: invalid listener address/],
      [`${BASE}\nlog_level = "loud"\n`, /"log_level" must be one of/],
      ['listener "tcp" { tls_disable = true }', /a storage block is required/],
      [`${BASE}\ndefault_lease_ttl = "2h"\nmax_lease_ttl = "1h"\n`, /default_lease_ttl cannot exceed max_lease_ttl/],
      ['storage "sqlite" {\n  path = "x"\n', /^coffer\.hcl:\d+: unexpected end of input/],
    ];
    for (const [text, want] of cases) assert.throws(() => parseConfig(text, 'coffer.hcl'), { name: 'ConfigError', message: want });
  });
});
