import { Barrier } from '../barrier/index.js';
import { badRequest, clearView } from '../logical/index.js';
import { ShamirSeal, UnsealProgress, combineShares } from '../seal/index.js';
import type { StorageBackend } from '../storage/index.js';
import type { Clock } from '../util/clock.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { Logger } from '../util/logger.js';
import { AuditBroker } from './audit/broker.js';
import { MountManager, type BackendFactory, type MountRequest } from './mounts/index.js';
import { handleRequest, type Handled, type LogicalRequest } from './pipeline.js';
import { PolicyStore, allowOperation } from './policy/index.js';
import { sysBackend } from './sys/index.js';
import { tokenBackend } from './tokens/token-backend.js';
import { TokenStore } from './tokens/token-store.js';
import { VERSION } from '../util/version.js';

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
  readonly engines: Readonly<Record<string, BackendFactory>>;
  /** Auth methods by type. The token method is built in. */
  readonly authMethods: Readonly<Record<string, BackendFactory>>;
  /** Recently read values the barrier keeps decrypted; 0 (the default) turns it off. */
  readonly plaintextCacheSize?: number;
}

export interface SealStatus {
  readonly type: 'shamir';
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly nonce: string;
  readonly version: string;
  readonly build_date: string;
  readonly migration: boolean;
  readonly cluster_name: string;
  readonly cluster_id: string;
  readonly recovery_seal: boolean;
  readonly storage_type: string;
}

export interface InitOptions {
  readonly secretShares: number;
  readonly secretThreshold: number;
  /** A chosen root token value (dev mode only). */
  readonly rootTokenId?: string;
}

const SHARE_BYTES = 33;
const KEY_BYTES = 32;

/**
 * The core: owns the seal lifecycle (initialise, unseal, seal) and, while unsealed, the mount
 * table, token store and policy store that the request pipeline uses.
 */
export class Core {
  readonly #opts: CoreOptions;
  readonly #barrier: Barrier;
  readonly #seal: ShamirSeal;
  readonly #progress = new UnsealProgress();
  readonly #lifecycle = new KeyedMutex();
  readonly #mounts: MountManager;
  readonly #tokens: TokenStore;
  readonly #policies: PolicyStore;
  readonly #audit = new AuditBroker();
  #clusterId = '';

  constructor(opts: CoreOptions) {
    this.#opts = opts;
    this.#barrier = new Barrier(opts.storage, { plaintextCacheSize: opts.plaintextCacheSize ?? 0 });
    this.#seal = new ShamirSeal(opts.storage);
    this.#policies = new PolicyStore(this.#barrier.view('sys/policy/'));
    this.#tokens = new TokenStore({
      view: this.#barrier.view('sys/token/'),
      clock: opts.clock,
      onRevoke: async (entry) => {
        const cubbyhole = this.#mounts.find('mounts', 'cubbyhole/');
        if (cubbyhole) await clearView(cubbyhole.view, `${entry.cubbyholeId}/`);
      },
      onError: (message, e) => opts.logger.error(message, { error: String(e) }),
    });
    const tokenMount = () => this.#mounts.find('auth', 'token/')?.entry.config;
    this.#mounts = new MountManager({
      barrier: this.#barrier,
      factories: {
        mounts: {
          ...opts.engines,
          system: async () =>
            sysBackend({
              mounts: this.#mounts,
              policies: this.#policies,
              systemTtls: { defaultTtl: opts.defaultLeaseTtl, maxTtl: opts.maxLeaseTtl },
              aclForToken: async (token) => {
                const e = await this.#tokens.lookup(token);
                return e ? this.#policies.acl(e.policies) : null;
              },
              aclForAccessor: async (accessor) => {
                const e = await this.#tokens.lookupByAccessor(accessor);
                return e ? this.#policies.acl(e.policies) : null;
              },
              aclForCaller: (caller) => this.#policies.acl(caller.policies),
              seal: () => this.seal(),
            }),
        },
        auth: {
          ...opts.authMethods,
          token: async () =>
            tokenBackend({
              store: this.#tokens,
              clock: opts.clock,
              ttls: () => ({
                defaultTtl: tokenMount()?.default_lease_ttl || opts.defaultLeaseTtl,
                maxTtl: tokenMount()?.max_lease_ttl || opts.maxLeaseTtl,
              }),
              hasSudo: async (caller, path) =>
                allowOperation(await this.#policies.acl(caller.policies), { path, operation: 'update', data: {} }).sudo,
            }),
        },
      },
      // Leases arrive with the expiration manager; until then a mount issues nothing to revoke.
      onUnmount: async () => {},
    });
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
      if (!Number.isSafeInteger(n) || n < 1 || n > 255) throw badRequest('secret_shares must be between 1 and 255');
      if (!Number.isSafeInteger(t) || t < 1 || t > n) throw badRequest('secret_threshold must be between 1 and secret_shares');
      if (n > 1 && t < 2) throw badRequest('threshold must be greater than one for multiple shares');
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
        const { token } = await this.#tokens.create({
          ...(opts.rootTokenId ? { id: opts.rootTokenId } : {}),
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
      const expected = config.secretShares === 1 ? KEY_BYTES : SHARE_BYTES;
      if (share.length !== expected) {
        throw badRequest(`invalid key share: it is ${share.length} bytes, expected ${expected}`);
      }
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
      try {
        await this.#setup();
      } catch (e) {
        this.#teardown();
        throw e;
      }
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

  async handle(req: LogicalRequest): Promise<Handled> {
    return handleRequest(
      { mounts: this.#mounts, tokens: this.#tokens, policies: this.#policies, audit: this.#audit, isSealed: () => this.#barrier.sealed },
      req,
    );
  }

  /** Revoke every token whose expiry has passed now (the timer does this on its own). */
  async sweepExpiredTokens(): Promise<void> {
    await this.#tokens.sweep();
  }

  async #setup(): Promise<void> {
    await this.#policies.ensureDefault();
    await this.#tokens.start();
    await this.#mounts.load();
    this.#clusterId = (await this.#barrier.get('core/cluster-id').then((b) => (b ? new TextDecoder().decode(b) : null))) ?? '';
    if (!this.#clusterId) {
      this.#clusterId = crypto.randomUUID();
      await this.#barrier.put('core/cluster-id', new TextEncoder().encode(this.#clusterId));
    }
  }

  #teardown(): void {
    this.#mounts.unload();
    this.#tokens.stop();
    this.#policies.reset();
    this.#barrier.seal();
    this.#progress.reset();
  }
}
