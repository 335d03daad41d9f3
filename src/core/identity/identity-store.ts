import { randomUUID } from 'node:crypto';
import { badRequest, deleteOp, getJSON, putJSONOp, type StorageOp, type StorageView } from '../../logical/index.js';
import { type Clock, KeyedMutex } from '../../util/index.js';

/** An entity alias: how one auth mount knows an entity ("alice" at auth/userpass/). */
export interface EntityAlias {
  readonly id: string;
  /** The entity it belongs to. */
  readonly canonicalId: string;
  readonly mountAccessor: string;
  readonly mountType: string;
  readonly mountPath: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly customMetadata: Readonly<Record<string, string>>;
  readonly creationTime: string;
  readonly lastUpdateTime: string;
  readonly mergedFromCanonicalIds: readonly string[];
}

/** An entity: one client (a person, a service) however many auth methods it logs in through. */
export interface Entity {
  readonly id: string;
  readonly name: string;
  readonly policies: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly disabled: boolean;
  readonly aliases: readonly EntityAlias[];
  readonly mergedEntityIds: readonly string[];
  readonly creationTime: string;
  readonly lastUpdateTime: string;
}

/** A group: internal (members listed) or external (members are whoever an identity provider says). */
export interface Group {
  readonly id: string;
  readonly name: string;
  readonly type: 'internal' | 'external';
  readonly policies: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly memberEntityIds: readonly string[];
  readonly memberGroupIds: readonly string[];
  /** An external group's alias: the provider's group name at one auth mount. */
  readonly alias: GroupAlias | null;
  readonly creationTime: string;
  readonly lastUpdateTime: string;
}

export interface GroupAlias {
  readonly id: string;
  readonly canonicalId: string;
  readonly mountAccessor: string;
  readonly name: string;
  readonly creationTime: string;
  readonly lastUpdateTime: string;
}

/** The auth mount a login came through. */
export interface AliasMount {
  readonly accessor: string;
  readonly type: string;
  /** "auth/userpass/" */
  readonly prefix: string;
}

const aliasKey = (mountAccessor: string, name: string) => `${mountAccessor}\n${name}`;

/**
 * Policy names as identity keeps them: trimmed, lower-cased, de-duplicated. Root is never an
 * identity policy, in any case or spacing: an entity or group cannot make its tokens root.
 */
function identityPolicies(policies: readonly string[] | undefined): readonly string[] | undefined {
  if (policies === undefined) return undefined;
  const names = [...new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))];
  if (names.includes('root')) throw badRequest('the root policy cannot be given through identity');
  return names.sort();
}
const NAME = /^[\w.@-]{1,128}$/;

/**
 * Entities, their aliases and groups, held in memory (loaded at unseal) and written through to
 * the core's identity storage. Every change takes one lock, so two logins of a new alias make
 * one entity and an alias never belongs to two. Reads (a request's identity policies) never
 * wait: they come from the maps.
 */
export class IdentityStore {
  readonly #view: StorageView;
  readonly #clock: Clock;
  readonly #lock = new KeyedMutex();
  readonly #entities = new Map<string, Entity>();
  readonly #entityByName = new Map<string, string>();
  readonly #aliasOwner = new Map<string, string>();
  readonly #aliasById = new Map<string, string>();
  readonly #groups = new Map<string, Group>();
  readonly #groupByName = new Map<string, string>();
  readonly #groupByAlias = new Map<string, string>();
  /** Identity policies by entity, until anything changes. */
  #policyMemo = new Map<string, readonly string[]>();
  #generation = 0;

  constructor(opts: { readonly view: StorageView; readonly clock: Clock }) {
    this.#view = opts.view;
    this.#clock = opts.clock;
  }

  async load(): Promise<void> {
    this.reset();
    for (const id of await this.#view.list('entity/')) {
      const e = await getJSON<Entity>(this.#view, `entity/${id}`);
      if (e) this.#index(e);
    }
    for (const id of await this.#view.list('group/')) {
      const g = await getJSON<Group>(this.#view, `group/${id}`);
      if (g) this.#indexGroup(g);
    }
  }

  reset(): void {
    this.#entities.clear();
    this.#entityByName.clear();
    this.#aliasOwner.clear();
    this.#aliasById.clear();
    this.#groups.clear();
    this.#groupByName.clear();
    this.#groupByAlias.clear();
    this.#changed();
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  // ---- entities ------------------------------------------------------------------------------

  entity(id: string): Entity | undefined {
    return this.#entities.get(id);
  }

  entityByName(name: string): Entity | undefined {
    const id = this.#entityByName.get(name);
    return id === undefined ? undefined : this.#entities.get(id);
  }

  entities(): Entity[] {
    return [...this.#entities.values()];
  }

  /** The entity and alias a login's alias names, both created on first sight. */
  async loginEntity(mount: AliasMount, alias: { readonly name: string; readonly metadata?: Readonly<Record<string, string>> }): Promise<Entity> {
    // The common case, a known alias with unchanged metadata, is answered from memory without the lock.
    const known = this.#entities.get(this.#aliasOwner.get(aliasKey(mount.accessor, alias.name)) ?? '');
    const same = known?.aliases.find((a) => a.mountAccessor === mount.accessor && a.name === alias.name);
    if (known && same && (!alias.metadata || JSON.stringify(same.metadata) === JSON.stringify(alias.metadata))) return known;
    return this.#lock.run('identity', async () => {
      const owner = this.#aliasOwner.get(aliasKey(mount.accessor, alias.name));
      const existing = owner === undefined ? undefined : this.#entities.get(owner);
      if (existing) {
        const current = existing.aliases.find((a) => a.mountAccessor === mount.accessor && a.name === alias.name);
        // A method may report new alias metadata (a changed service-account uid) at each login.
        if (current && alias.metadata && JSON.stringify(current.metadata) !== JSON.stringify(alias.metadata)) {
          const updated = { ...current, metadata: { ...alias.metadata }, lastUpdateTime: this.#now() };
          return this.#saveEntity({ ...existing, aliases: existing.aliases.map((a) => (a === current ? updated : a)) });
        }
        return existing;
      }
      const now = this.#now();
      const id = randomUUID();
      const entity: Entity = {
        id,
        name: `entity_${id.slice(0, 8)}`,
        policies: [],
        metadata: {},
        disabled: false,
        aliases: [this.#newAlias(id, mount, alias.name, alias.metadata ?? {}, now)],
        mergedEntityIds: [],
        creationTime: now,
        lastUpdateTime: now,
      };
      return this.#saveEntity(entity);
    });
  }

  #newAlias(canonicalId: string, mount: AliasMount, name: string, metadata: Readonly<Record<string, string>>, now: string): EntityAlias {
    return {
      id: randomUUID(),
      canonicalId,
      mountAccessor: mount.accessor,
      mountType: mount.type,
      mountPath: mount.prefix,
      name,
      metadata: { ...metadata },
      customMetadata: {},
      creationTime: now,
      lastUpdateTime: now,
      mergedFromCanonicalIds: [],
    };
  }

  /** Create or update an entity by name or id; fields absent from `change` keep their values. */
  async writeEntity(change: { id?: string; name?: string; policies?: readonly string[]; metadata?: Readonly<Record<string, string>>; disabled?: boolean }): Promise<Entity> {
    return this.#lock.run('identity', async () => {
      const current = change.id !== undefined ? this.#entities.get(change.id) : change.name !== undefined ? this.entityByName(change.name) : undefined;
      if (change.id !== undefined && !current) throw badRequest('entity not found');
      if (change.name !== undefined) {
        if (!NAME.test(change.name)) throw badRequest('invalid entity name');
        const holder = this.#entityByName.get(change.name);
        if (holder !== undefined && holder !== current?.id) throw badRequest('entity name is already in use');
      }
      const now = this.#now();
      const id = current?.id ?? randomUUID();
      const entity: Entity = {
        id,
        name: change.name ?? current?.name ?? `entity_${id.slice(0, 8)}`,
        policies: identityPolicies(change.policies) ?? current?.policies ?? [],
        metadata: change.metadata ?? current?.metadata ?? {},
        disabled: change.disabled ?? current?.disabled ?? false,
        aliases: current?.aliases ?? [],
        mergedEntityIds: current?.mergedEntityIds ?? [],
        creationTime: current?.creationTime ?? now,
        lastUpdateTime: now,
      };
      return this.#saveEntity(entity);
    });
  }

  async deleteEntity(id: string): Promise<void> {
    await this.#lock.run('identity', async () => {
      const e = this.#entities.get(id);
      if (!e) return;
      const groups = [...this.#groups.values()].filter((g) => g.memberEntityIds.includes(id));
      const ops: StorageOp[] = [deleteOp(`entity/${id}`)];
      const updated = groups.map((g) => ({ ...g, memberEntityIds: g.memberEntityIds.filter((m) => m !== id), lastUpdateTime: this.#now() }));
      for (const g of updated) ops.push(putJSONOp(`group/${g.id}`, g));
      await this.#view.transaction(ops);
      this.#unindex(e);
      for (const g of updated) this.#indexGroup(g);
      this.#changed();
    });
  }

  /** Add an alias to an entity (identity/entity-alias), refusing one its mount already gives another entity. */
  async writeAlias(input: { id?: string; canonicalId: string; mount: AliasMount; name: string; customMetadata?: Readonly<Record<string, string>> }): Promise<EntityAlias> {
    return this.#lock.run('identity', async () => {
      const target = this.#entities.get(input.canonicalId);
      if (!target) throw badRequest('invalid canonical ID');
      const ownerId = this.#aliasOwner.get(aliasKey(input.mount.accessor, input.name));
      const existingId = input.id ?? (ownerId === input.canonicalId ? this.#entities.get(ownerId)?.aliases.find((a) => a.mountAccessor === input.mount.accessor && a.name === input.name)?.id : undefined);
      if (ownerId !== undefined && ownerId !== input.canonicalId) throw badRequest('alias already exists for requested entity');
      if (target.aliases.some((a) => a.mountAccessor === input.mount.accessor && a.id !== existingId)) {
        throw badRequest('entity already has an alias on this mount');
      }
      const now = this.#now();
      const previous = existingId !== undefined ? this.#findAlias(existingId) : undefined;
      if (previous) await this.#removeAlias(previous);
      const alias: EntityAlias = {
        ...this.#newAlias(input.canonicalId, input.mount, input.name, previous?.metadata ?? {}, previous?.creationTime ?? now),
        id: previous?.id ?? randomUUID(),
        customMetadata: input.customMetadata ?? previous?.customMetadata ?? {},
        lastUpdateTime: now,
      };
      const fresh = this.#entities.get(input.canonicalId)!;
      await this.#saveEntity({ ...fresh, aliases: [...fresh.aliases, alias], lastUpdateTime: now });
      return alias;
    });
  }

  alias(id: string): EntityAlias | undefined {
    return this.#findAlias(id);
  }

  aliases(): EntityAlias[] {
    return [...this.#entities.values()].flatMap((e) => e.aliases);
  }

  async deleteAlias(id: string): Promise<void> {
    await this.#lock.run('identity', async () => {
      const alias = this.#findAlias(id);
      if (alias) await this.#removeAlias(alias);
    });
  }

  #findAlias(id: string): EntityAlias | undefined {
    const owner = this.#aliasById.get(id);
    return owner === undefined ? undefined : this.#entities.get(owner)?.aliases.find((a) => a.id === id);
  }

  async #removeAlias(alias: EntityAlias): Promise<void> {
    const e = this.#entities.get(alias.canonicalId);
    if (e) await this.#saveEntity({ ...e, aliases: e.aliases.filter((a) => a.id !== alias.id), lastUpdateTime: this.#now() });
  }

  /** Move every alias (and group membership) of `from` into `to`, then delete `from` (identity/entity/merge). */
  async merge(to: string, from: readonly string[]): Promise<Entity> {
    return this.#lock.run('identity', async () => {
      const target = this.#entities.get(to);
      if (!target) throw badRequest('entity id to merge to is invalid');
      const sources = from.map((id) => {
        const e = this.#entities.get(id);
        if (!e) throw badRequest('entity id to merge from is invalid');
        if (id === to) throw badRequest('cannot merge an entity into itself');
        return e;
      });
      const accessors = new Set(target.aliases.map((a) => a.mountAccessor));
      for (const s of sources) {
        for (const a of s.aliases) {
          if (accessors.has(a.mountAccessor)) throw badRequest('conflicting mount accessors in following alias IDs');
          accessors.add(a.mountAccessor);
        }
      }
      const now = this.#now();
      const moved = sources.flatMap((s) => s.aliases.map((a) => ({ ...a, canonicalId: to, mergedFromCanonicalIds: [...a.mergedFromCanonicalIds, s.id], lastUpdateTime: now })));
      const merged: Entity = {
        ...target,
        aliases: [...target.aliases, ...moved],
        policies: [...new Set([...target.policies, ...sources.flatMap((s) => s.policies)])],
        mergedEntityIds: [...target.mergedEntityIds, ...sources.map((s) => s.id)],
        lastUpdateTime: now,
      };
      const fromIds = new Set(from);
      const groups = [...this.#groups.values()]
        .filter((g) => g.memberEntityIds.some((m) => fromIds.has(m)))
        .map((g) => ({ ...g, memberEntityIds: [...new Set(g.memberEntityIds.map((m) => (fromIds.has(m) ? to : m)))], lastUpdateTime: now }));
      await this.#view.transaction([
        putJSONOp(`entity/${to}`, merged),
        ...sources.map((s) => deleteOp(`entity/${s.id}`)),
        ...groups.map((g) => putJSONOp(`group/${g.id}`, g)),
      ]);
      for (const s of sources) this.#unindex(s);
      this.#index(merged);
      for (const g of groups) this.#indexGroup(g);
      this.#changed();
      return merged;
    });
  }

  async #saveEntity(e: Entity): Promise<Entity> {
    await this.#view.transaction([putJSONOp(`entity/${e.id}`, e)]);
    const old = this.#entities.get(e.id);
    if (old) this.#unindex(old);
    this.#index(e);
    this.#changed();
    return e;
  }

  #index(e: Entity): void {
    this.#entities.set(e.id, e);
    this.#entityByName.set(e.name, e.id);
    for (const a of e.aliases) {
      this.#aliasOwner.set(aliasKey(a.mountAccessor, a.name), e.id);
      this.#aliasById.set(a.id, e.id);
    }
  }

  #unindex(e: Entity): void {
    this.#entities.delete(e.id);
    if (this.#entityByName.get(e.name) === e.id) this.#entityByName.delete(e.name);
    for (const a of e.aliases) {
      if (this.#aliasOwner.get(aliasKey(a.mountAccessor, a.name)) === e.id) this.#aliasOwner.delete(aliasKey(a.mountAccessor, a.name));
      if (this.#aliasById.get(a.id) === e.id) this.#aliasById.delete(a.id);
    }
  }

  // ---- groups --------------------------------------------------------------------------------

  group(id: string): Group | undefined {
    return this.#groups.get(id);
  }

  groupByName(name: string): Group | undefined {
    const id = this.#groupByName.get(name);
    return id === undefined ? undefined : this.#groups.get(id);
  }

  groups(): Group[] {
    return [...this.#groups.values()];
  }

  /** The external group an identity provider's group name maps to at a mount, if any. */
  groupByAlias(mountAccessor: string, name: string): Group | undefined {
    const id = this.#groupByAlias.get(aliasKey(mountAccessor, name));
    return id === undefined ? undefined : this.#groups.get(id);
  }

  async writeGroup(change: {
    id?: string; name?: string; type?: 'internal' | 'external'; policies?: readonly string[]; metadata?: Readonly<Record<string, string>>;
    memberEntityIds?: readonly string[]; memberGroupIds?: readonly string[];
  }): Promise<Group> {
    return this.#lock.run('identity', async () => {
      const current = change.id !== undefined ? this.#groups.get(change.id) : change.name !== undefined ? this.groupByName(change.name) : undefined;
      if (change.id !== undefined && !current) throw badRequest('group not found');
      if (change.name !== undefined) {
        if (!NAME.test(change.name)) throw badRequest('invalid group name');
        const holder = this.#groupByName.get(change.name);
        if (holder !== undefined && holder !== current?.id) throw badRequest('group name is already in use');
      }
      const type = change.type ?? current?.type ?? 'internal';
      if (current && type !== current.type) throw badRequest('group type cannot be changed');
      if (type === 'external' && (change.memberEntityIds?.length || change.memberGroupIds?.length)) {
        throw badRequest('member entities and groups can\'t be set manually for external groups');
      }
      for (const m of change.memberEntityIds ?? []) if (!this.#entities.has(m)) throw badRequest('invalid member entity id');
      const now = this.#now();
      const id = current?.id ?? randomUUID();
      for (const m of change.memberGroupIds ?? []) {
        if (!this.#groups.has(m)) throw badRequest('invalid member group id');
        if (m === id || this.#reaches(m, id)) throw badRequest('group cannot be a member of itself, directly or through its members');
      }
      const group: Group = {
        id,
        name: change.name ?? current?.name ?? `group_${id.slice(0, 8)}`,
        type,
        policies: identityPolicies(change.policies) ?? current?.policies ?? [],
        metadata: change.metadata ?? current?.metadata ?? {},
        memberEntityIds: change.memberEntityIds ?? current?.memberEntityIds ?? [],
        memberGroupIds: change.memberGroupIds ?? current?.memberGroupIds ?? [],
        alias: current?.alias ?? null,
        creationTime: current?.creationTime ?? now,
        lastUpdateTime: now,
      };
      return this.#saveGroup(group);
    });
  }

  /** True if group `from` has `to` among its member groups, at any depth. */
  #reaches(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const g = this.#groups.get(stack.pop()!);
      if (!g || seen.has(g.id)) continue;
      seen.add(g.id);
      for (const m of g.memberGroupIds) {
        if (m === to) return true;
        stack.push(m);
      }
    }
    return false;
  }

  async deleteGroup(id: string): Promise<void> {
    await this.#lock.run('identity', async () => {
      const g = this.#groups.get(id);
      if (!g) return;
      const now = this.#now();
      const parents = [...this.#groups.values()].filter((p) => p.memberGroupIds.includes(id)).map((p) => ({ ...p, memberGroupIds: p.memberGroupIds.filter((m) => m !== id), lastUpdateTime: now }));
      await this.#view.transaction([deleteOp(`group/${id}`), ...parents.map((p) => putJSONOp(`group/${p.id}`, p))]);
      this.#unindexGroup(g);
      for (const p of parents) this.#indexGroup(p);
      this.#changed();
    });
  }

  /** Give an external group its alias: the provider's group name at one auth mount. */
  async writeGroupAlias(input: { id?: string; canonicalId: string; mountAccessor: string; name: string }): Promise<GroupAlias> {
    return this.#lock.run('identity', async () => {
      const group = this.#groups.get(input.canonicalId);
      if (!group) throw badRequest('invalid canonical ID');
      if (group.type !== 'external') throw badRequest('alias can\'t be set on an internal group');
      const holder = this.#groupByAlias.get(aliasKey(input.mountAccessor, input.name));
      if (holder !== undefined && holder !== group.id) throw badRequest('combination of mount and group alias name is already in use');
      const now = this.#now();
      const alias: GroupAlias = {
        id: group.alias?.id ?? input.id ?? randomUUID(),
        canonicalId: group.id,
        mountAccessor: input.mountAccessor,
        name: input.name,
        creationTime: group.alias?.creationTime ?? now,
        lastUpdateTime: now,
      };
      await this.#saveGroup({ ...group, alias, lastUpdateTime: now });
      return alias;
    });
  }

  groupAlias(id: string): GroupAlias | undefined {
    return [...this.#groups.values()].find((g) => g.alias?.id === id)?.alias ?? undefined;
  }

  async deleteGroupAlias(id: string): Promise<void> {
    await this.#lock.run('identity', async () => {
      const g = [...this.#groups.values()].find((x) => x.alias?.id === id);
      if (g) await this.#saveGroup({ ...g, alias: null, lastUpdateTime: this.#now() });
    });
  }

  /**
   * An external group's members are whoever the provider last said: at each login through a
   * mount, the entity joins the external groups its group names map to there and leaves the
   * mount's other external groups.
   */
  async syncExternalGroups(entityId: string, mountAccessor: string, names: readonly string[]): Promise<void> {
    const wanted = new Set(names.map((n) => this.#groupByAlias.get(aliasKey(mountAccessor, n))).filter((id): id is string => id !== undefined));
    const stale = [...this.#groups.values()].filter(
      (g) => g.type === 'external' && g.alias?.mountAccessor === mountAccessor && g.memberEntityIds.includes(entityId) !== wanted.has(g.id),
    );
    if (stale.length === 0) return;
    await this.#lock.run('identity', async () => {
      const now = this.#now();
      const changed: Group[] = [];
      for (const g of stale) {
        const fresh = this.#groups.get(g.id);
        if (!fresh) continue;
        const members = wanted.has(g.id) ? [...new Set([...fresh.memberEntityIds, entityId])] : fresh.memberEntityIds.filter((m) => m !== entityId);
        changed.push({ ...fresh, memberEntityIds: members, lastUpdateTime: now });
      }
      await this.#view.transaction(changed.map((g) => putJSONOp(`group/${g.id}`, g)));
      for (const g of changed) this.#indexGroup(g);
      this.#changed();
    });
  }

  async #saveGroup(g: Group): Promise<Group> {
    await this.#view.transaction([putJSONOp(`group/${g.id}`, g)]);
    const old = this.#groups.get(g.id);
    if (old) this.#unindexGroup(old);
    this.#indexGroup(g);
    this.#changed();
    return g;
  }

  #indexGroup(g: Group): void {
    const old = this.#groups.get(g.id);
    if (old) this.#unindexGroup(old);
    this.#groups.set(g.id, g);
    this.#groupByName.set(g.name, g.id);
    if (g.alias) this.#groupByAlias.set(aliasKey(g.alias.mountAccessor, g.alias.name), g.id);
  }

  #unindexGroup(g: Group): void {
    this.#groups.delete(g.id);
    if (this.#groupByName.get(g.name) === g.id) this.#groupByName.delete(g.name);
    if (g.alias && this.#groupByAlias.get(aliasKey(g.alias.mountAccessor, g.alias.name)) === g.id) {
      this.#groupByAlias.delete(aliasKey(g.alias.mountAccessor, g.alias.name));
    }
  }

  // ---- what requests ask --------------------------------------------------------------------

  /** The groups an entity is in: directly, and through groups that have those groups as members. */
  groupsOf(entityId: string): Group[] {
    const direct = [...this.#groups.values()].filter((g) => g.memberEntityIds.includes(entityId));
    const out = new Map(direct.map((g) => [g.id, g]));
    const stack = [...direct];
    while (stack.length) {
      const child = stack.pop()!;
      for (const g of this.#groups.values()) {
        if (g.memberGroupIds.includes(child.id) && !out.has(g.id)) {
          out.set(g.id, g);
          stack.push(g);
        }
      }
    }
    return [...out.values()];
  }

  /** The policies an entity and its groups grant, sorted; none for an unknown or disabled entity. */
  policiesOf(entityId: string): readonly string[] {
    if (entityId === '') return [];
    const memo = this.#policyMemo.get(entityId);
    if (memo) return memo;
    const e = this.#entities.get(entityId);
    const set = new Set<string>();
    if (e && !e.disabled) {
      for (const p of e.policies) set.add(p);
      for (const g of this.groupsOf(entityId)) for (const p of g.policies) set.add(p);
    }
    set.delete('root'); // never written (see identityPolicies); never honoured either
    const policies = Object.freeze([...set].sort());
    this.#policyMemo.set(entityId, policies);
    return policies;
  }

  /** Bumped by every change: what was derived from identity (a templated ACL) is stale then. */
  get generation(): number {
    return this.#generation;
  }

  #changed(): void {
    this.#policyMemo = new Map();
    this.#generation++;
  }
}
