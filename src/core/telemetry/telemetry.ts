import { hostname } from 'node:os';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { badRequest, type Operation } from '../../logical/index.js';
import { WindowSummary, promName } from './summary.js';

/** The server configuration's `telemetry` block. */
export interface TelemetrySettings {
  /** Seconds; 0 turns the Prometheus format off, as in Vault (default 24h). */
  readonly prometheusRetentionTime: number;
  /** Leave the host name out of the runtime gauges' names (Vault: false, so they carry it). */
  readonly disableHostname: boolean;
  /** Seconds between two computations of the usage gauges (token, lease, secret and entity counts; Vault: 10m); 0 for none. */
  readonly usageGaugePeriod: number;
}

/** Prometheus' text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const DEFAULT_TELEMETRY: TelemetrySettings = { prometheusRetentionTime: 24 * 3600, disableHostname: false, usageGaugePeriod: 600 };

/** What the usage gauges count, computed every usage_gauge_period. */
export interface Usage {
  readonly tokens: number;
  readonly tokensByPolicy: ReadonlyMap<string, number>;
  /** By the type of the auth method that issued them ("token" for auth/token/create). */
  readonly tokensByAuth: ReadonlyMap<string, number>;
  readonly leases: number;
  /** Secrets in each KV mount, by mount path ("secret/"). */
  readonly kvSecrets: ReadonlyMap<string, number>;
  readonly entities: number;
}

/** The server's state the scrape reads as it is. */
export interface LiveState {
  readonly unsealed: () => boolean;
  readonly active: () => boolean;
  /** Requests being answered now. */
  readonly inFlight: () => number;
}

type JsonLabels = Record<string, string>;
interface JsonGauge {
  Name: string;
  Value: number;
  Labels: JsonLabels;
}
interface JsonSample {
  Name: string;
  Count: number;
  Rate: number;
  Sum: number;
  Min: number;
  Max: number;
  Mean: number;
  Stddev: number;
  Labels: JsonLabels;
}

const NAMESPACE = { namespace: 'root' };
const TIMERS = {
  handleRequest: ['vault.core.handle_request', 'Time to handle a request (not a login), in ms.'],
  handleLoginRequest: ['vault.core.handle_login_request', 'Time to handle a login request, in ms.'],
  leadershipLost: ['vault.core.leadership_lost', 'How long this node was active before it lost leadership, in ms.'],
  barrierGet: ['vault.barrier.get', 'Time of a read through the barrier, in ms.'],
  barrierPut: ['vault.barrier.put', 'Time of a write through the barrier, in ms.'],
  barrierDelete: ['vault.barrier.delete', 'Time of a delete through the barrier, in ms.'],
  barrierList: ['vault.barrier.list', 'Time of a list through the barrier, in ms.'],
  auditLogRequest: ['vault.audit.log_request', 'Time to write a request entry to the audit devices, in ms.'],
  auditLogResponse: ['vault.audit.log_response', 'Time to write a response entry to the audit devices, in ms.'],
  expireRevoke: ['vault.expire.revoke', 'Time to revoke a lease, in ms.'],
  policyGet: ['vault.policy.get_policy', 'Time to read a policy, in ms.'],
  policySet: ['vault.policy.set_policy', 'Time to write a policy, in ms.'],
  policyDelete: ['vault.policy.delete_policy', 'Time to delete a policy, in ms.'],
  policyList: ['vault.policy.list_policies', 'Time to list the policies, in ms.'],
} as const;

/**
 * The server's metrics, under Vault's names so that dashboards and alert rules written for Vault
 * work unchanged: timers (summaries in ms), counters, and gauges, in Prometheus' text format and
 * in the JSON of go-metrics that Vault's sys/metrics answers by default. Gauges and counters are
 * prom-client's; timers are WindowSummary (cheap enough for the request path). What is costly to
 * count (tokens, secrets) is counted every usage_gauge_period, so a scrape only reads.
 */
export class Telemetry {
  readonly settings: TelemetrySettings;
  readonly #registry = new Registry();
  readonly #timers: WindowSummary[] = [];
  /** Route timers by mount prefix, then operation. */
  readonly #routes = new Map<string, Partial<Record<Operation, WindowSummary>>>();
  /** Dotted names of the gauges and counters, by their Prometheus names (for the JSON format). */
  readonly #dotted = new Map<string, string>();
  readonly #started = Date.now();
  readonly timers: { readonly [K in keyof typeof TIMERS]: WindowSummary };
  readonly auditLogRequestFailure: Counter;
  readonly auditLogResponseFailure: Counter;
  readonly #tokenCount: Gauge;
  readonly #tokenByPolicy: Gauge;
  readonly #tokenByAuth: Gauge;
  readonly #leases: Gauge;
  readonly #kvCount: Gauge;
  readonly #entities: Gauge;

  constructor(settings: TelemetrySettings, state: LiveState) {
    this.settings = settings;
    const timers: Partial<Record<keyof typeof TIMERS, WindowSummary>> = {};
    for (const [key, [name, help]] of Object.entries(TIMERS) as [keyof typeof TIMERS, readonly [string, string]][]) timers[key] = this.#timer(name, help);
    this.timers = timers as { [K in keyof typeof TIMERS]: WindowSummary };
    this.auditLogRequestFailure = this.#counter('vault.audit.log_request_failure', 'Request entries an audit device could not write, counted per device.');
    this.auditLogResponseFailure = this.#counter('vault.audit.log_response_failure', 'Response entries an audit device could not write, counted per device.');
    this.#gauge('vault.core.unsealed', 'Whether the server is unsealed (1) or sealed (0).', [], (g) => g.set(state.unsealed() ? 1 : 0));
    this.#gauge('vault.core.active', 'Whether this node is the active one (1) or a standby (0).', [], (g) => g.set(state.active() ? 1 : 0));
    this.#gauge('vault.core.in_flight_requests', 'Requests being answered now.', [], (g) => g.set(state.inFlight()));
    this.#tokenCount = this.#gauge('vault.token.count', 'Tokens in the token store.', ['namespace']);
    this.#tokenByPolicy = this.#gauge('vault.token.count.by_policy', 'Tokens by policy.', ['namespace', 'policy']);
    this.#tokenByAuth = this.#gauge('vault.token.count.by_auth', 'Tokens by the type of the auth method that issued them.', ['namespace', 'auth_method']);
    this.#leases = this.#gauge('vault.expire.num_leases', 'Leases held by the expiration manager.', []);
    this.#kvCount = this.#gauge('vault.secret.kv.count', 'Secrets in a KV mount.', ['namespace', 'mount_point']);
    this.#entities = this.#gauge('vault.identity.num_entities', 'Identity entities.', ['namespace']);
    // The Node process's own (process_*, nodejs_*), and Vault's names for the two that match Go's.
    collectDefaultMetrics({ register: this.#registry });
    const runtime = settings.disableHostname ? 'vault.runtime' : `vault.${hostname()}.runtime`;
    this.#gauge(`${runtime}.alloc_bytes`, 'Bytes of the heap in use.', [], (g) => g.set(process.memoryUsage().heapUsed));
    this.#gauge(`${runtime}.sys_bytes`, 'Bytes of memory the process holds (resident set).', [], (g) => g.set(process.memoryUsage.rss()));
  }

  /** The timer of one operation on one mount: vault.route.<operation>.<mount path, "/" as "-">. */
  route(prefix: string, operation: Operation): WindowSummary {
    let byOp = this.#routes.get(prefix);
    if (byOp === undefined) this.#routes.set(prefix, (byOp = {}));
    return (byOp[operation] ??= this.#timer(`vault.route.${operation}.${prefix.replaceAll('/', '-')}`, `Time to handle a ${operation} on ${prefix}, in ms.`));
  }

  /** Set the usage gauges to a fresh count. */
  setUsage(u: Usage): void {
    this.#tokenCount.set(NAMESPACE, u.tokens);
    this.#tokenByPolicy.reset();
    for (const [policy, n] of u.tokensByPolicy) this.#tokenByPolicy.set({ ...NAMESPACE, policy }, n);
    this.#tokenByAuth.reset();
    for (const [method, n] of u.tokensByAuth) this.#tokenByAuth.set({ ...NAMESPACE, auth_method: method }, n);
    this.#leases.set(u.leases);
    this.#kvCount.reset();
    for (const [mount, n] of u.kvSecrets) this.#kvCount.set({ ...NAMESPACE, mount_point: mount }, n);
    this.#entities.set(NAMESPACE, u.entities);
  }

  /**
   * sys/metrics' answer for a `format` parameter: Prometheus' text for "prometheus", the JSON
   * for none; anything else is refused.
   */
  async answer(format: unknown): Promise<{ readonly text: string; readonly contentType: string } | { readonly json: object }> {
    if (format === 'prometheus') return { text: await this.prometheus(), contentType: PROMETHEUS_CONTENT_TYPE };
    if (format !== undefined && format !== '') throw badRequest('unsupported metrics format: use "prometheus", or no format for JSON');
    return { json: await this.json() };
  }

  /** Every metric in Prometheus' text exposition format. */
  async prometheus(): Promise<string> {
    if (this.settings.prometheusRetentionTime === 0) throw badRequest('prometheus is not enabled');
    const own = await this.#registry.metrics();
    return own + this.#timers.map((t) => t.render()).join('');
  }

  /** Every metric as go-metrics' JSON, which Vault's sys/metrics answers without ?format. */
  async json(): Promise<{ Timestamp: string; Gauges: JsonGauge[]; Points: never[]; Counters: JsonSample[]; Samples: JsonSample[] }> {
    const gauges: JsonGauge[] = [];
    const counters: JsonSample[] = [];
    for (const m of await this.#registry.getMetricsAsJSON()) {
      const name = this.#dotted.get(m.name) ?? m.name;
      for (const v of m.values) {
        const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
        // A counter goes up by one each time: each increment is a sample of 1.
        if (String(m.type) === 'counter') counters.push(sample(name, { count: v.value, sum: v.value, min: 1, max: 1, mean: 1 }, labels, this.#uptime()));
        else if (String(m.type) === 'gauge') gauges.push({ Name: name, Value: v.value, Labels: labels });
      }
    }
    const samples = this.#timers.map((t) => sample(t.name, t.stats(), {}, this.#uptime()));
    // go-metrics' time format: "2026-12-03 13:20:00 +0000 UTC".
    const stamp = `${new Date().toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
    return { Timestamp: stamp, Gauges: gauges, Points: [], Counters: counters, Samples: samples };
  }

  #uptime(): number {
    return Math.max(1, (Date.now() - this.#started) / 1000);
  }

  #timer(name: string, help: string): WindowSummary {
    const t = new WindowSummary(name, help);
    this.#timers.push(t);
    return t;
  }

  #counter(name: string, help: string): Counter {
    this.#dotted.set(promName(name), name);
    return new Counter({ name: promName(name), help, registers: [this.#registry] });
  }

  #gauge(name: string, help: string, labelNames: string[], collect?: (g: Gauge) => void): Gauge {
    this.#dotted.set(promName(name), name);
    return new Gauge({ name: promName(name), help, labelNames, registers: [this.#registry], ...(collect ? { collect() { collect(this); } } : {}) });
  }
}

/** A go-metrics sample: its statistics since start, and the sum per second over that time. */
function sample(name: string, s: { count: number; sum: number; min: number; max: number; mean: number }, labels: JsonLabels, seconds: number): JsonSample {
  const none = s.count === 0;
  return { Name: name, Count: s.count, Rate: s.sum / seconds, Sum: s.sum, Min: none ? 0 : s.min, Max: none ? 0 : s.max, Mean: none ? 0 : s.mean, Stddev: 0, Labels: labels };
}

