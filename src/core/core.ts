import { Barrier, KEYRING_PATH } from '../barrier/index.js';
import type { Backend, BackendRegistry } from '../framework/index.js';
import { CofferError, MSG, badRequest, clearView, type AuditSinkRegistry, type AuthResult, type ConnectionInfo, type SystemView } from '../logical/index.js';
import { SEAL_RECORDS, ShamirSeal, UnsealProgress, checkShareLength, combineShares, validateSealConfig } from '../seal/index.js';
import type { StorageBackend } from '../storage/index.js';
import { type Clock, KeyedMutex, type Logger, randomBase62, ROOT_TOKEN_BODY, VERSION } from '../util/index.js';
import { AuditTable, type DeclaredAuditDevice } from './audit/audit-table.js';
import { AuditBroker } from './audit/broker.js';
import type { AuditMount } from './audit/format.js';
import { DEFAULT_REVOCATION, ExpirationManager, type RevocationPolicy } from './expiration/index.js';
import { IdentityStore, identityBackend } from './identity/index.js';
import { InFlightRequests } from './in-flight.js';
import { KeyRotation } from './key-rotation.js';
import type { ShareAuthority } from './key-shares.js';
import { BACKUP_PATH, Rekey, type RekeyBackup } from './rekey.js';
import { RootGeneration } from './root-generation.js';
import { QuotaManager } from './quotas/quotas.js';
import { AutoSnapshots } from './snapshot/auto.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot/format.js';
import { DEFAULT_LOCKOUT, UserLockout, type LockoutConfig, type LockoutSubject } from './lockout.js';
import { MountManager, type MountEntry, type MountRequest } from './mounts/index.js';
import { DEFAULT_TELEMETRY, Telemetry, type TelemetrySettings } from './telemetry/telemetry.js';
import { Wrapping } from './wrapping/wrapping.js';
import { handleRequest, matchesSpecial, nullView, type Handled, type LogicalRequest, type PipelineDeps, type Route } from './pipeline.js';
import { PasswordPolicyStore, PolicyStore, allowOperation, type Acl } from './policy/index.js';
import type { InitOptions, Lifecycle, SealStatus } from './seal-status.js';
import { sysBackend, type SysDeps } from './sys/index.js';
import { migrateTokenRoles } from './tokens/migrate-roles.js';
import { tokenBackend } from './tokens/token-backend.js';
import { authResult, issueToken, loginTokenType, type IssueDeps } from './tokens/token-issue.js';
import { TokenStore, type RenewLimits, type TokenEntry } from './tokens/token-store.js';

export interface CoreOptions {
  readonly storage: StorageBackend;
  /** Name of the storage type, reported by seal-status. */
  readonly storageType: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Server-wide lease TTL defaults in seconds (Vault: 768h each). */
  readonly defaultLeaseTtl: number;
  readonly maxLeaseTtl: number;
  /** Secrets engines by type (kv, cubbyhole, ...). */
  readonly engines: BackendRegistry;
  /** Auth methods by type. The token method is built in. */
  readonly authMethods: BackendRegistry;
  /**
   * Engine mounts every server has besides the core's own (system, token): created at
   * initialisation, and like those never moved or disabled (the composition gives cubbyhole/).
   */
  readonly standardMounts: readonly MountRequest[];
  /** Recently read values the barrier keeps decrypted; 0 (the default) turns it off. */
  readonly plaintextCacheSize?: number;
  /** And the most bytes they may take (see Barrier); no byte limit when absent. */
  readonly plaintextCacheBytes?: number;
  /** How failed revocations are retried (DEFAULT_REVOCATION when absent). */
  readonly revocation?: RevocationPolicy;
  /** Upcoming lease expirations held in memory (default 2048). */
  readonly leaseWindow?: number;
  /** The configuration file's user_lockout stanzas: by auth method type, and "all". */
  readonly userLockout?: Readonly<Record<string, Partial<LockoutConfig>>>;
  /** Audit device types by name (file, syslog, socket). */
  readonly auditSinks: AuditSinkRegistry;
  /** The configuration file's audit stanzas: devices open at every unseal before anything is served. */
  readonly auditDevices?: readonly DeclaredAuditDevice[];
  /** The configuration file's telemetry block (DEFAULT_TELEMETRY when absent). */
  readonly telemetry?: TelemetrySettings;
  /** The configuration without secrets, as sys/config/state/sanitized answers it. */
  readonly sanitizedConfig?: Readonly<Record<string, unknown>>;
}

/** The system backend that answers while sealed, as audit entries name it. */
const SEALED_SYS_AUDIT: AuditMount = { prefix: 'sys/', type: 'system', accessor: '' };

/** Where leases are stored: written once, read about once, so the storage cache passes them by. */
export const LEASE_STORAGE_PREFIX = 'sys/expire/';

/** How often mounts' periodic work runs (Vault: once a minute; rotation is due to the second here). */
const PERIODIC_MS = 5_000;

/** The core's own mounts: the system backend and the token store's API. */
const CORE_MOUNTS: readonly MountRequest[] = [
  { table: 'mounts', path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging' },
  { table: 'auth', path: 'token/', type: 'token', description: 'token based credentials' },
  { table: 'mounts', path: 'identity/', type: 'identity', description: 'identity store' },
];

/**
 * The core: owns the seal lifecycle (initialise, unseal, seal) and, while unsealed, the mount
 * table, token store and policy store that the request pipeline uses. It knows secrets engines
 * and auth methods only through their registries.
 */
export class Core {
  readonly #opts: CoreOptions;
  /** The server's metrics (sys/metrics). */
  readonly telemetry: Telemetry;
  /** The requests being answered now (sys/in-flight-req); the HTTP layer keeps it. */
  readonly inFlight = new InFlightRequests();
  readonly #barrier: Barrier;
  readonly #seal: ShamirSeal;
  readonly #progress = new UnsealProgress();
  readonly #lifecycle = new KeyedMutex();
  readonly #mounts: MountManager;
  readonly #tokens: TokenStore;
  readonly #policies: PolicyStore;
  readonly #expiration: ExpirationManager;
  readonly #passwordPolicies: PasswordPolicyStore;
  readonly #audit: AuditBroker;
  readonly #auditTable: AuditTable;
  readonly #auditMounts = new WeakMap<MountEntry, AuditMount>();
  readonly #wrapping: Wrapping;
  readonly #keyRotation: KeyRotation;
  readonly #rootGeneration: RootGeneration;
  readonly #rekey: Rekey;
  readonly #autoSnapshots: AutoSnapshots;
  readonly #quotas: QuotaManager;
  readonly #identity: IdentityStore;
  readonly #lockout: UserLockout;
  /** A token's request policies (its own with its entity's), kept while neither changes. */
  readonly #requestPolicies = new WeakMap<TokenEntry, { identity: readonly string[]; all: readonly string[] }>();
  readonly #issueDeps: IssueDeps;
  readonly #sysDeps: SysDeps;
  readonly #pipeline: PipelineDeps;
  /** The system backend that answers the seal endpoints while sealed, when no mount table is loaded. */
  readonly #sealedSys: Backend;
  #clusterId = '';
  #periodicTimer: NodeJS.Timeout | null = null;
  #usageTimer: NodeJS.Timeout | null = null;
  #periodicRun: Promise<void> | null = null;

  constructor(opts: CoreOptions) {
    this.#opts = opts;
    // A standalone server is its own active node while unsealed.
    this.telemetry = new Telemetry(opts.telemetry ?? DEFAULT_TELEMETRY, {
      unsealed: () => !this.#barrier.sealed,
      active: () => !this.#barrier.sealed,
      inFlight: () => this.inFlight.size,
    });
    const timers = this.telemetry.timers;
    this.#barrier = new Barrier(opts.storage, {
      plaintextCacheSize: opts.plaintextCacheSize ?? 0,
      plaintextCacheBytes: opts.plaintextCacheBytes,
      timings: { get: (ms) => timers.barrierGet.observe(ms), put: (ms) => timers.barrierPut.observe(ms), delete: (ms) => timers.barrierDelete.observe(ms), list: (ms) => timers.barrierList.observe(ms) },
    });
    this.#seal = new ShamirSeal(opts.storage);
    this.#policies = new PolicyStore(this.#barrier.view('sys/policy/'), {
      get: (ms) => timers.policyGet.observe(ms),
      set: (ms) => timers.policySet.observe(ms),
      delete: (ms) => timers.policyDelete.observe(ms),
      list: (ms) => timers.policyList.observe(ms),
    });
    this.#passwordPolicies = new PasswordPolicyStore(this.#barrier.view('sys/password-policy/'));
    this.#identity = new IdentityStore({ view: this.#barrier.view('sys/identity/'), clock: opts.clock });
    this.#lockout = new UserLockout({ view: this.#barrier.view('sys/locked-users/'), clock: opts.clock });
    this.#audit = new AuditBroker(opts.logger, (kind) => (kind === 'request' ? this.telemetry.auditLogRequestFailure : this.telemetry.auditLogResponseFailure).inc());
    this.#auditTable = new AuditTable({ view: this.#barrier.view('core/audit/'), sinks: opts.auditSinks, broker: this.#audit, logger: opts.logger, declared: opts.auditDevices ?? [] });
    this.#tokens = new TokenStore({
      view: this.#barrier.view('sys/token/'),
      clock: opts.clock,
      // The secrets a token asked for, the data a mount keeps for it (its cubbyhole) and a
      // wrapping token's response go with it.
      onRevoke: async (entry) => {
        this.#quotas.counted(entry.path, -1);
        await this.#expiration.revokeByToken(entry.id);
        await this.#wrapping.tokenRevoked(entry);
        for (const m of this.#mounts.mounted()) await m.backend.tokenRevoked?.({ cubbyholeId: entry.cubbyholeId });
      },
      onError: (message, e) => opts.logger.error(message, { error: String(e) }),
    });
    const systemTtls = { defaultTtl: opts.defaultLeaseTtl, maxTtl: opts.maxLeaseTtl };
    this.#keyRotation = new KeyRotation({ barrier: this.#barrier, clock: opts.clock, logger: opts.logger });
    const shareAuthority = this.#shareAuthority();
    this.#rootGeneration = new RootGeneration({ seal: shareAuthority, mintRootToken: () => this.#mintRootToken() });
    this.#rekey = new Rekey({
      seal: shareAuthority,
      prepare: (rootKey, config) => this.#seal.prepareRekey(rootKey, config),
      commit: (ops, sealOps) => this.#barrier.transaction(ops, sealOps),
    });
    this.#quotas = new QuotaManager({
      view: this.#barrier.view('sys/quotas/'),
      clock: opts.clock,
      countUnder: async (prefix) => {
        let tokens = 0;
        for (const [path, n] of (await this.#tokens.usage()).byPath) if (path.startsWith(prefix)) tokens += n;
        return (await this.#expiration.countUnder(prefix)) + tokens;
      },
    });
    this.#autoSnapshots = new AutoSnapshots({ view: this.#barrier.view('core/snapshot-auto/'), take: () => this.snapshot(), clock: opts.clock, logger: opts.logger });
    this.#wrapping = new Wrapping({ view: this.#barrier.view('sys/wrapping/'), tokens: this.#tokens, maxTtl: () => opts.maxLeaseTtl });
    this.#mounts = new MountManager({
      barrier: this.#barrier,
      registries: {
        // The factories run at bootstrap or unseal, after the constructor has set #sysDeps.
        mounts: {
          ...opts.engines,
          system: { factory: async (ctx) => sysBackend(ctx, this.#sysDeps), singleton: true },
          identity: { factory: async (ctx) => identityBackend(ctx, { store: this.#identity, mountByAccessor: (a) => this.#authMountByAccessor(a) }), singleton: true },
        },
        auth: {
          ...opts.authMethods,
          token: {
            singleton: true,
            factory: async (ctx) => {
              await migrateTokenRoles(this.#barrier.view('sys/token/'), ctx.view);
              return tokenBackend(ctx, {
                store: this.#tokens,
                hasSudo: async (caller, path) => allowOperation(await this.#aclOf(caller.entityId, caller.policies), { path, operation: 'update', data: {} }).sudo,
                renew: (input) => this.#renewToken(input),
                identityPolicies: (entityId) => this.#identity.policiesOf(entityId),
              });
            },
          },
        },
      },
      builtin: [...CORE_MOUNTS, ...opts.standardMounts],
      systemTtls,
      logger: opts.logger,
      clock: opts.clock,
      generatePassword: (policy) => this.#passwordPolicies.generate(policy),
      // What a mount issued (leases, and an auth method's tokens) is revoked before it goes; if that fails, the mount stays.
      onUnmount: async (mounted) => {
        await this.#expiration.revokePrefix(mounted.prefix, { sync: true });
        if (mounted.entry.table === 'auth') await this.#tokens.revokeIssuedUnder(mounted.prefix);
        await this.#quotas.mountRemoved(mounted.prefix);
      },
      onRemount: async (from, to) => {
        await this.#expiration.rekey(from, to);
        if (from.startsWith('auth/')) await this.#tokens.repath(from, to);
        await this.#quotas.mountMoved(from, to);
      },
    });
    this.#expiration = new ExpirationManager({
      view: this.#barrier.view(LEASE_STORAGE_PREFIX),
      clock: opts.clock,
      logger: opts.logger,
      route: (path) => this.#mountRoute(path),
      tokenLive: async (tokenHash) => (await this.#tokens.lookupByHash(tokenHash)) !== null,
      revocation: opts.revocation ?? DEFAULT_REVOCATION,
      revoked: (ms) => timers.expireRevoke.observe(ms),
      counted: (path, delta) => this.#quotas.counted(path, delta),
      ...(opts.leaseWindow !== undefined ? { window: opts.leaseWindow } : {}),
    });
    this.#sysDeps = {
      mounts: this.#mounts,
      policies: this.#policies,
      systemTtls,
      aclForToken: async (token) => this.#aclOfEntry(await this.#tokens.lookup(token)),
      aclForAccessor: async (accessor) => this.#aclOfEntry(await this.#tokens.lookupByAccessor(accessor)),
      aclForCaller: (caller) => this.#aclOf(caller.entityId, caller.policies),
      lifecycle: this.#lifecycleApi(),
      leases: this.#expiration,
      revokeTokensUnder: (prefix) => this.#tokens.revokeIssuedUnder(prefix),
      passwordPolicies: this.#passwordPolicies,
      lockedUsers: {
        list: () => this.#lockout.locked((accessor) => this.#lockoutConfig(accessor).duration),
        unlock: (accessor, alias) => this.#lockout.unlock(accessor, alias),
      },
      audit: this.#auditTable,
      telemetry: this.telemetry,
      inFlight: this.inFlight,
      sanitizedConfig: opts.sanitizedConfig ?? {},
      wrapping: this.#wrapping,
      keys: this.#keyRotation,
      rootGeneration: this.#rootGenerationApi(),
      rekey: this.#rekeyApi(),
      snapshots: { save: () => this.snapshot(), restore: (file, opts) => this.restore(file, opts) },
      autoSnapshots: this.#autoSnapshots,
      quotas: this.#quotas,
    };
    this.#sealedSys = sysBackend({ system: this.#serverSystemView() }, this.#sysDeps);
    this.#issueDeps = {
      store: this.#tokens,
      identify: async (mount, alias, groupAliases) => {
        const entity = await this.#identity.loginEntity(mount, alias);
        if (entity.disabled) throw new CofferError('permission_denied', MSG.permissionDenied);
        await this.#identity.syncExternalGroups(entity.id, mount.accessor, groupAliases);
        return { entityId: entity.id, identityPolicies: this.#identity.policiesOf(entity.id) };
      },
      identityPolicies: async (entityId) => this.#identity.policiesOf(entityId),
    };
    this.#pipeline = {
      route: (path) => this.#route(path),
      tokens: this.#tokens,
      policies: this.#policies,
      audit: this.#audit,
      telemetry: this.telemetry,
      auditedHeaders: (headers) => this.#auditTable.requestHeaders(headers),
      isSealed: () => this.#barrier.sealed,
      requestPolicies: (entry) => this.#policiesOf(entry),
      lockout: {
        check: (route, alias) => this.#lockout.check(this.#lockoutSubject(route.accessor, alias)),
        failed: (route, alias) => this.#lockout.failed(this.#lockoutSubject(route.accessor, alias)),
        succeeded: (route, alias) => this.#lockout.succeeded(this.#lockoutSubject(route.accessor, alias)),
      },
      acl: (entry, policies) => this.#aclOf(entry.entityId, policies),
      registerLease: (input) => this.#expiration.register(input),
      wrap: (response, ttl, path) => this.#wrapping.wrap(response, ttl, path),
      quotas: this.#quotas,
      issueToken: async ({ path, route, grant, caller }) => {
        // Only auth methods (and the token store, itself one) vouch for callers.
        if (!route.prefix.startsWith('auth/')) throw new CofferError('internal', `mount ${route.prefix} answered with a token grant`);
        const mount = { prefix: route.prefix, type: route.mountType, accessor: route.accessor, system: route.system };
        // The token store's own grants name their type; a login's follows its mount's token_type.
        const typed = grant.tokenStore ? grant : { ...grant, tokenType: loginTokenType(grant, route.tokenType) };
        const issued = await issueToken(this.#issueDeps, { grant: typed, mount, path, caller });
        // A stored token counts against the lease count quotas of its path (a batch token is stored nowhere).
        if (issued.auth.tokenType !== 'batch') this.#quotas.counted(path, 1);
        return issued;
      },
    };
  }

  get sealed(): boolean {
    return this.#barrier.sealed;
  }

  async status(): Promise<SealStatus> {
    const config = await this.#seal.config();
    return {
      type: 'shamir',
      initialized: config !== null,
      sealed: this.#barrier.sealed,
      t: config?.secretThreshold ?? 0,
      n: config?.secretShares ?? 0,
      progress: this.#progress.count,
      nonce: this.#progress.nonce,
      version: VERSION,
      build_date: '',
      migration: false,
      cluster_name: this.#barrier.sealed ? '' : 'coffer-cluster',
      cluster_id: this.#barrier.sealed ? '' : this.#clusterId,
      recovery_seal: false,
      storage_type: this.#opts.storageType,
    };
  }

  /** Create the keys, the built-in mounts and policies and the root token. Leaves the server sealed. */
  async initialize(opts: InitOptions, extraMounts: readonly MountRequest[] = []): Promise<{ keys: Uint8Array[]; rootToken: string }> {
    return this.#lifecycle.run('lifecycle', async () => {
      const { secretShares: n, secretThreshold: t } = opts;
      validateSealConfig(n, t);
      if (await this.#seal.config()) throw badRequest('Vault is already initialized');
      // Without a seal configuration nothing stored can ever be decrypted: whatever an earlier,
      // interrupted initialisation left behind goes before the new keys are made.
      await clearView(this.#opts.storage);
      const { shares, rootKey, commit } = await this.#seal.initialize({ type: 'shamir', secretShares: n, secretThreshold: t });
      await this.#barrier.initialize(rootKey, new Date(this.#opts.clock.now()));
      await this.#barrier.unseal(rootKey);
      try {
        await this.#policies.ensureDefault();
        await this.#mounts.bootstrap(extraMounts);
        await this.#tokens.start();
        const token = await this.#mintRootToken(opts.rootTokenId);
        await commit();
        return { keys: shares, rootToken: token };
      } finally {
        this.#teardown();
        rootKey.fill(0);
      }
    });
  }

  /** Submit one key share. Unseals once the threshold is reached with correct shares. */
  async unseal(share: Uint8Array): Promise<SealStatus> {
    await this.#lifecycle.run('lifecycle', async () => {
      const config = await this.#seal.config();
      if (!config) throw badRequest('Vault is not initialized');
      if (!this.#barrier.sealed) return;
      checkShareLength(config.secretShares, share);
      this.#progress.add(share);
      if (this.#progress.count < config.secretThreshold) return;
      const shares = this.#progress.take();
      let rootKey: Uint8Array;
      try {
        const unsealKey = await combineShares(shares);
        rootKey = await this.#seal.rootKey(unsealKey);
        unsealKey.fill(0);
      } catch {
        throw badRequest('failed to unseal: the key shares do not reconstruct the unseal key; progress was reset');
      } finally {
        for (const s of shares) s.fill(0);
      }
      await this.#barrier.unseal(rootKey);
      rootKey.fill(0);
      await this.#serveOrSeal('unseal failed: the server cannot start serving; it stays sealed');
      this.#opts.logger.info('unsealed');
    });
    return this.status();
  }

  resetUnseal(): void {
    this.#progress.reset();
  }

  async seal(): Promise<void> {
    await this.#lifecycle.run('lifecycle', async () => {
      if (this.#barrier.sealed) return;
      this.#teardown();
      this.#opts.logger.info('sealed');
    });
  }

  /** Serve one request through the pipeline. */
  handle(req: LogicalRequest): Promise<Handled> {
    return handleRequest(this.#pipeline, req);
  }

  /**
   * A snapshot of all storage: every entry as stored (still encrypted), at one moment, while the
   * server goes on serving, in coffer's checksummed snapshot format.
   */
  async snapshot(): Promise<Buffer> {
    if (this.#barrier.sealed) throw new CofferError('sealed', MSG.sealed);
    return encodeSnapshot({ format: 1, created: new Date(this.#opts.clock.now()).toISOString(), version: VERSION, storage_type: this.#opts.storageType }, this.#opts.storage.snapshot());
  }

  /**
   * Replace all storage with a snapshot's. The file is checked whole first (checksum, format, the
   * seal's records): a corrupted or truncated one is refused before anything is replaced. Without
   * `force` it must be this server's own (its keyring opens under the root key held now): the
   * server then reloads everything from it and stays unsealed. With `force` a snapshot of another
   * server is taken too; the server then seals, to be unsealed with that server's key shares.
   */
  async restore(file: Uint8Array, opts: { force: boolean }): Promise<{ sealed: boolean }> {
    const { entries } = decodeSnapshot(file);
    const keys = new Set(entries.map(([k]) => k));
    for (const required of [...SEAL_RECORDS, KEYRING_PATH]) {
      if (!keys.has(required)) throw badRequest(`the snapshot holds no ${required}: it is not of an initialised server`);
    }
    return this.#lifecycle.run('lifecycle', async () => {
      if (this.#barrier.sealed) throw new CofferError('sealed', MSG.sealed);
      const keyring = entries.find(([k]) => k === KEYRING_PATH)![1];
      if (!opts.force && !this.#barrier.opensKeyring(keyring)) {
        throw badRequest('the snapshot is of another server (its keyring does not open with this server\'s root key); restore it with snapshot-force, then unseal with that server\'s key shares');
      }
      this.#unload();
      try {
        await this.#opts.storage.replaceAll(entries);
      } catch (e) {
        // Nothing was replaced (it is one transaction): serve what is stored again. Should even
        // that fail, the server seals and says why; the client hears of the restore's failure.
        await this.#serveOrSeal('after a failed restore the server cannot serve what it had; it is sealed').catch(() => {});
        throw e;
      }
      this.#seal.forget();
      this.#progress.reset();
      if (!(await this.#barrier.reload())) {
        this.#teardown();
        this.#opts.logger.info('restored a snapshot of another server: sealed, to be unsealed with its key shares');
        return { sealed: true };
      }
      await this.#serveOrSeal('the restored snapshot could not be loaded; the server is sealed');
      this.#opts.logger.info('restored a snapshot');
      return { sealed: false };
    });
  }

  /** Reopen every audit device's file or connection (SIGHUP, after the log was rotated). */
  async reopenAuditDevices(): Promise<void> {
    if (!this.#barrier.sealed) await this.#auditTable.reopen();
  }

  /** Revoke every token whose expiry has passed now (the timer does this on its own). */
  async sweepExpiredTokens(): Promise<void> {
    await this.#tokens.sweep();
  }

  /** Revoke every lease due now, retries included (the timer does this on its own). */
  async sweepExpiredLeases(): Promise<void> {
    await this.#expiration.sweep();
  }

  /**
   * Run every mount's periodic work once (static role rotation); the core's timer does this every
   * PERIODIC_MS while unsealed. A failing mount is logged and does not stop the others.
   */
  runPeriodic(): Promise<void> {
    this.#periodicRun ??= (async () => {
      try {
        if (!this.#barrier.sealed) await this.#keyRotation.tick();
      } catch (e) {
        if (!this.#barrier.sealed) this.#opts.logger.error('barrier key rotation failed', { error: e instanceof Error ? e.message : String(e) });
      }
      try {
        if (!this.#barrier.sealed) await this.#autoSnapshots.tick();
      } catch (e) {
        if (!this.#barrier.sealed) this.#opts.logger.error('automated snapshots failed', { error: e instanceof Error ? e.message : String(e) });
      }
      for (const m of [...this.#mounts.mounted()]) {
        if (!m.backend.periodic) continue;
        try {
          await m.backend.periodic();
        } catch (e) {
          if (!this.#barrier.sealed) this.#opts.logger.error('periodic work of a mount failed', { mount: m.prefix, error: e instanceof Error ? e.message : String(e) });
        }
      }
    })().finally(() => {
      this.#periodicRun = null;
    });
    return this.#periodicRun;
  }

  /**
   * Count what the usage gauges report (tokens by policy and by auth method, leases, KV secrets
   * per mount, entities); the core does this every usage_gauge_period while unsealed.
   */
  async refreshUsage(): Promise<void> {
    const { tokens, byPolicy, byPath } = await this.#tokens.usage();
    const byAuth = new Map<string, number>();
    for (const [path, n] of byPath) {
      const type = this.#mountRoute(path)?.mountType ?? 'unknown';
      byAuth.set(type, (byAuth.get(type) ?? 0) + n);
    }
    const kvSecrets = new Map<string, number>();
    for (const m of [...this.#mounts.mounted()]) if (m.backend.countSecrets) kvSecrets.set(m.prefix, await m.backend.countSecrets());
    this.telemetry.setUsage({ tokens, tokensByPolicy: byPolicy, tokensByAuth: byAuth, leases: await this.#expiration.count(), kvSecrets, entities: this.#identity.entities().length });
  }

  /** How many upcoming expirations are held in memory (the rest are in storage). */
  get leaseWindowSize(): number {
    return this.#expiration.windowSize;
  }

  /** The mount serving path in the mount table; requests and lease renewals and revocations alike go through it. */
  #mountRoute(path: string): Route | null {
    const routed = this.#mounts.route(path);
    if (!routed) return null;
    const m = routed.mounted;
    return { backend: m.backend, view: m.view, prefix: m.prefix, mountType: m.entry.type, relative: routed.relative, system: m.system, accessor: m.entry.accessor, tokenType: m.entry.config.token_type, audit: this.#auditMount(m.prefix, m.entry) };
  }

  /** A mount as audit entries name it, made once per mount entry (a tune makes a new entry). */
  #auditMount(prefix: string, entry: MountEntry): AuditMount {
    let mount = this.#auditMounts.get(entry);
    if (mount === undefined) {
      const { audit_non_hmac_request_keys: plainRequestKeys, audit_non_hmac_response_keys: plainResponseKeys } = entry.config;
      mount = { prefix, type: entry.type, accessor: entry.accessor, ...(plainRequestKeys?.length ? { plainRequestKeys } : {}), ...(plainResponseKeys?.length ? { plainResponseKeys } : {}) };
      this.#auditMounts.set(entry, mount);
    }
    return mount;
  }

  /**
   * An auth mount's lockout settings, each from the first that sets it: the mount's tuning, the
   * config file's user_lockout stanza for its type, the "all" stanza, Vault's defaults.
   */
  #lockoutConfig(accessor: string): LockoutConfig {
    const mount = this.#mounts.entries('auth').find((m) => m.accessor === accessor);
    const tuned = mount?.config.user_lockout_config;
    const byType = (mount && this.#opts.userLockout?.[mount.type]) ?? {};
    const all = this.#opts.userLockout?.['all'] ?? {};
    return {
      threshold: tuned?.lockout_threshold ?? byType.threshold ?? all.threshold ?? DEFAULT_LOCKOUT.threshold,
      duration: tuned?.lockout_duration || byType.duration || all.duration || DEFAULT_LOCKOUT.duration,
      counterReset: tuned?.lockout_counter_reset_duration || byType.counterReset || all.counterReset || DEFAULT_LOCKOUT.counterReset,
      disable: tuned?.lockout_disable ?? byType.disable ?? all.disable ?? DEFAULT_LOCKOUT.disable,
    };
  }

  #lockoutSubject(mountAccessor: string, alias: string): LockoutSubject {
    return { mountAccessor, alias, config: this.#lockoutConfig(mountAccessor) };
  }

  /** The ACL of these policies for a token of this entity: templated paths filled in with its identity. */
  #aclOf(entityId: string, policies: readonly string[]): Promise<Acl> {
    if (entityId === '') return this.#policies.acl(policies);
    const identity = this.#identity;
    return this.#policies.acl(policies, {
      key: `${entityId}@${identity.generation}`,
      identity: () => {
        const e = identity.entity(entityId);
        return { entity: e ?? null, groups: e ? identity.groupsOf(entityId) : [] };
      },
    });
  }

  async #aclOfEntry(entry: TokenEntry | null): Promise<Acl | null> {
    const policies = entry ? this.#policiesOf(entry) : null;
    return entry && policies ? this.#aclOf(entry.entityId, policies) : null;
  }

  #authMountByAccessor(accessor: string): { accessor: string; type: string; prefix: string } | null {
    const e = this.#mounts.entries('auth').find((m) => m.accessor === accessor);
    return e ? { accessor, type: e.type, prefix: `auth/${e.path}` } : null;
  }

  /** A token's own policies with its entity's and groups'; null if its entity is disabled. */
  #policiesOf(entry: TokenEntry): readonly string[] | null {
    if (entry.entityId === '') return entry.policies;
    if (this.#identity.entity(entry.entityId)?.disabled) return null;
    const identity = this.#identity.policiesOf(entry.entityId);
    if (identity.length === 0) return entry.policies;
    const memo = this.#requestPolicies.get(entry);
    if (memo?.identity === identity) return memo.all;
    const all = Object.freeze([...new Set([...entry.policies, ...identity])].sort());
    this.#requestPolicies.set(entry, { identity, all });
    return all;
  }

  /**
   * Renew a token within the caps that hold now. A login's token is the issuing method's to
   * vouch for again: its renew handler answers the role's current TTLs, or refuses.
   */
  async #renewToken(input: { entry: TokenEntry; token: string; increment: number; connection: ConnectionInfo }): Promise<{ auth: AuthResult; warnings: string[] }> {
    const { entry, increment } = input;
    const route = this.#mountRoute(entry.path);
    const mountMax = route?.system.maxLeaseTtl() ?? this.#opts.maxLeaseTtl;
    let limits: RenewLimits = { increment, maxTtl: mountMax };
    if (!entry.path.startsWith('auth/token/')) {
      if (!route || !route.backend.renewAuth) throw badRequest('the auth method that issued this token cannot renew it');
      const caps = await route.backend.renewAuth({
        storage: route.view,
        internalData: entry.internal ?? {},
        policies: entry.policies,
        metadata: entry.meta,
        path: route.relative,
        connection: input.connection,
      });
      limits = {
        increment: increment || (caps.ttl ?? 0),
        maxTtl: caps.maxTtl ? Math.min(caps.maxTtl, mountMax || caps.maxTtl) : mountMax,
        ...(caps.period !== undefined ? { period: caps.period } : {}),
      };
    }
    const { entry: renewed, warnings } = await this.#tokens.renew(entry.id, limits);
    return { auth: authResult(renewed, input.token, this.#identity.policiesOf(renewed.entityId)), warnings };
  }

  /** Unsealed: the mount table. Sealed: only the seal endpoints of the system backend. */
  #route(path: string): Route | null {
    if (!this.#barrier.sealed) return this.#mountRoute(path);
    if (path.startsWith('sys/') && matchesSpecial(this.#sealedSys.sealedPaths, path.slice(4))) {
      return { backend: this.#sealedSys, view: nullView, prefix: 'sys/', mountType: 'system', relative: path.slice(4), system: this.#serverSystemView(), accessor: '', tokenType: undefined, audit: SEALED_SYS_AUDIT };
    }
    throw new CofferError('sealed', MSG.sealed);
  }

  /** The current seal as generate-root and rekey check a quorum against it. */
  #shareAuthority(): ShareAuthority {
    const config = async () => {
      const c = await this.#seal.config();
      if (!c) throw badRequest('Vault is not initialized');
      return c;
    };
    return {
      threshold: async () => (await config()).secretThreshold,
      checkShare: async (share) => checkShareLength((await config()).secretShares, share),
      rootKeyFrom: async (shares) => {
        try {
          const unsealKey = await combineShares(shares);
          try {
            return await this.#seal.rootKey(unsealKey);
          } finally {
            unsealKey.fill(0);
          }
        } catch {
          throw badRequest('the key shares do not reconstruct the unseal key; progress was reset');
        }
      },
    };
  }

  /** A new root token: "hvs." and 24 base62 characters, like Vault's (or the dev server's chosen id). */
  async #mintRootToken(id = `hvs.${randomBase62(ROOT_TOKEN_BODY)}`): Promise<string> {
    const { token } = await this.#tokens.create({
      id,
      parent: '',
      policies: ['root'],
      path: 'auth/token/root',
      meta: null,
      displayName: 'root',
      numUses: 0,
      ttl: 0,
      explicitMaxTtl: 0,
      period: 0,
      renewable: false,
      role: '',
    });
    return token;
  }

  /**
   * Run one step of generate-root or rekey: one at a time with each other and with the seal
   * lifecycle, and only while unsealed (a seal in between ends every attempt).
   */
  #keyStep<T>(step: () => Promise<T> | T): Promise<T> {
    return this.#lifecycle.run('lifecycle', async () => {
      if (this.#barrier.sealed) throw new CofferError('sealed', MSG.sealed);
      return step();
    });
  }

  #rootGenerationApi(): SysDeps['rootGeneration'] {
    const g = this.#rootGeneration;
    return {
      status: (otp) => this.#keyStep(() => g.status(otp)),
      start: (opts) => this.#keyStep(() => g.start(opts)),
      cancel: () => this.#keyStep(() => g.cancel()),
      update: (share, nonce) => this.#keyStep(() => g.update(share, nonce)),
    };
  }

  #rekeyApi(): SysDeps['rekey'] {
    const r = this.#rekey;
    return {
      status: () => this.#keyStep(() => r.status()),
      start: (opts) => this.#keyStep(() => r.start(opts)),
      cancel: () => this.#keyStep(() => r.cancel()),
      update: (share, nonce) => this.#keyStep(() => r.update(share, nonce)),
      verifyStatus: () => this.#keyStep(() => r.verifyStatus()),
      verifyUpdate: (share, nonce) => this.#keyStep(() => r.verifyUpdate(share, nonce)),
      verifyCancel: () => this.#keyStep(() => r.verifyCancel()),
      readBackup: async () => {
        const raw = await this.#barrier.get(BACKUP_PATH);
        return raw ? (JSON.parse(new TextDecoder().decode(raw)) as RekeyBackup) : null;
      },
      deleteBackup: () => this.#barrier.delete(BACKUP_PATH),
    };
  }

  #lifecycleApi(): Lifecycle {
    return {
      status: () => this.status(),
      initialize: (opts) => this.initialize(opts),
      unseal: (share) => this.unseal(share),
      resetUnseal: () => this.resetUnseal(),
      isSealed: () => this.#barrier.sealed,
      seal: () => this.seal(),
    };
  }

  /** The server's own TTLs, logger and clock (for the system backend that serves while sealed). */
  #serverSystemView(): SystemView {
    return {
      defaultLeaseTtl: () => this.#opts.defaultLeaseTtl,
      maxLeaseTtl: () => this.#opts.maxLeaseTtl,
      generatePassword: (policy) => this.#passwordPolicies.generate(policy),
      logger: this.#opts.logger,
      clock: this.#opts.clock,
    };
  }

  /** Load everything from storage and start serving; if that fails, seal, log why, and throw. */
  async #serveOrSeal(failure: string): Promise<void> {
    try {
      await this.#setup();
    } catch (e) {
      this.#teardown();
      this.#opts.logger.error(failure, { error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  async #setup(): Promise<void> {
    await this.#policies.ensureDefault();
    await this.#keyRotation.load();
    await this.#autoSnapshots.load();
    await this.#tokens.start();
    await this.#identity.load();
    await this.#lockout.load();
    await this.#mounts.load();
    // Before anything is served: with a device that cannot open, nothing would be recorded.
    await this.#auditTable.load();
    // After the mounts: leases that fell due while sealed are revoked through their backends.
    await this.#expiration.start();
    await this.#quotas.load();
    this.#periodicTimer = setInterval(() => void this.runPeriodic(), PERIODIC_MS);
    this.#periodicTimer.unref();
    const usage = () =>
      this.refreshUsage().catch((e: unknown) => {
        if (!this.#barrier.sealed) this.#opts.logger.error('counting the usage gauges failed', { error: e instanceof Error ? e.message : String(e) });
      });
    // As Vault's: the first count one period after unseal, not during it; period 0 is "none".
    const period = this.telemetry.settings.usageGaugePeriod;
    if (period > 0) {
      this.#usageTimer = setInterval(usage, period * 1000);
      this.#usageTimer.unref();
    }
    this.#clusterId = (await this.#barrier.get('core/cluster-id').then((b) => (b ? new TextDecoder().decode(b) : null))) ?? '';
    if (!this.#clusterId) {
      this.#clusterId = crypto.randomUUID();
      await this.#barrier.put('core/cluster-id', new TextEncoder().encode(this.#clusterId));
    }
  }

  /** Seal: everything unsealing loaded goes, and the barrier drops its keys. */
  #teardown(): void {
    this.#unload();
    this.#barrier.seal();
    this.#progress.reset();
  }

  /** Stop and drop everything loaded from storage (the barrier keeps its keys). */
  #unload(): void {
    if (this.#periodicTimer) clearInterval(this.#periodicTimer);
    this.#periodicTimer = null;
    if (this.#usageTimer) clearInterval(this.#usageTimer);
    this.#usageTimer = null;
    this.#expiration.stop();
    this.#auditTable.unload();
    this.#mounts.unload();
    this.#tokens.stop();
    this.#identity.reset();
    this.#lockout.reset();
    this.#policies.reset();
    this.#passwordPolicies.reset();
    this.#rootGeneration.cancel();
    this.#rekey.cancel();
    this.#autoSnapshots.reset();
    this.#quotas.reset();
  }
}
