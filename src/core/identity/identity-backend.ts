import {
  defineBackend, definePath, field, type Backend, type BackendContext, type CompiledPath, type FieldSchema, type FieldSchemas, type FieldValues, type PathContext,
} from '../../framework/index.js';
import { badRequest, type LogicalResponse } from '../../logical/index.js';
import type { AliasMount, Entity, EntityAlias, Group, GroupAlias, IdentityStore } from './identity-store.js';

export interface IdentityDeps {
  readonly store: IdentityStore;
  /** The auth mount with this accessor, or null. */
  readonly mountByAccessor: (accessor: string) => AliasMount | null;
}

const ID = '(?<id>[0-9a-fA-F-]{1,64})';
const NAME = '(?<name>[\\w.@-]+)';
const help = (synopsis: string) => ({ synopsis, description: synopsis });

function aliasData(a: EntityAlias): Record<string, unknown> {
  return {
    id: a.id,
    canonical_id: a.canonicalId,
    mount_accessor: a.mountAccessor,
    mount_path: a.mountPath,
    mount_type: a.mountType,
    name: a.name,
    metadata: a.metadata,
    custom_metadata: a.customMetadata,
    creation_time: a.creationTime,
    last_update_time: a.lastUpdateTime,
    merged_from_canonical_ids: a.mergedFromCanonicalIds.length ? a.mergedFromCanonicalIds : null,
    local: false,
    namespace_id: 'root',
  };
}

function groupAliasData(a: GroupAlias, mount: AliasMount | null): Record<string, unknown> {
  return {
    id: a.id,
    canonical_id: a.canonicalId,
    mount_accessor: a.mountAccessor,
    mount_path: mount?.prefix ?? '',
    mount_type: mount?.type ?? '',
    name: a.name,
    creation_time: a.creationTime,
    last_update_time: a.lastUpdateTime,
    metadata: null,
    merged_from_canonical_ids: null,
  };
}

/** How identity/<noun>/… serves one kind of named object (entities, groups). */
interface NamedSpec<T extends { readonly id: string; readonly name: string }, F extends FieldSchemas> {
  readonly noun: 'entity' | 'group';
  readonly fields: F;
  all(): T[];
  byId(id: string): T | undefined;
  byName(name: string): T | undefined;
  describe(t: T): Record<string, unknown>;
  /** Create or update: `target` names the object (its id when it exists, a name to give it). */
  write(c: PathContext, d: FieldValues<F>, target: { id?: string; name?: string }): Promise<T>;
  remove(id: string): Promise<void>;
  /** What a create answers with. */
  created(t: T): Record<string, unknown>;
}

/**
 * The paths Vault gives entities and groups alike: POST <noun> (create, or update by id or
 * name), LIST <noun>/id and <noun>/name, and GET, POST, DELETE on <noun>/id/:id and
 * <noun>/name/:name. A write to a name that does not exist creates it; to an id, refuses.
 */
function namedPaths<T extends { readonly id: string; readonly name: string }, F extends FieldSchemas & { id: FieldSchema<string>; name: FieldSchema<string> }>(
  spec: NamedSpec<T, F>,
): CompiledPath[] {
  const { noun } = spec;
  const find = (by: 'id' | 'name', c: PathContext) => (by === 'id' ? spec.byId(c.captures.id!) : spec.byName(c.captures.name!));
  // F's id and name are string fields (the constraint says so); TypeScript cannot see through FieldValues<F>.
  const named = (d: FieldValues<F>) => d as unknown as { readonly id: string; readonly name: string };
  return [
    definePath({
      pattern: `${noun}/?`,
      fields: spec.fields,
      operations: {
        update: {
          summary: `Create or update ${noun === 'entity' ? 'an entity' : 'a group'}.`,
          handler: async (c, d) => {
            const { id, name } = named(d);
            const existed = id ? spec.byId(id) : name ? spec.byName(name) : undefined;
            const t = await spec.write(c, d, { ...(id ? { id } : {}), ...(name ? { name } : {}) });
            return existed ? null : { data: spec.created(t) };
          },
        },
      },
      help: help(`Create ${noun === 'entity' ? 'an entity' : 'a group'}, or update one given by id or name.`),
    }),
    definePath({
      pattern: `${noun}/id/?`,
      fields: {},
      operations: { list: { summary: `List ${noun} ids.`, handler: async () => listed(spec.all().map((t) => t.id), Object.fromEntries(spec.all().map((t) => [t.id, { name: t.name }]))) } },
      help: help(`List ${noun === 'entity' ? 'entities' : 'groups'} by id.`),
    }),
    definePath({
      pattern: `${noun}/name/?`,
      fields: {},
      operations: { list: { summary: `List ${noun} names.`, handler: async () => listed(spec.all().map((t) => t.name)) } },
      help: help(`List ${noun === 'entity' ? 'entities' : 'groups'} by name.`),
    }),
    ...(['id', 'name'] as const).map((by) =>
      definePath({
        pattern: `${noun}/${by}/${by === 'id' ? ID : NAME}`,
        fields: spec.fields,
        operations: {
          read: {
            summary: `Read ${noun === 'entity' ? 'an entity' : 'a group'}.`,
            handler: async (c) => ((t) => (t ? { data: spec.describe(t) } : null))(find(by, c)),
          },
          update: {
            summary: `Update ${noun === 'entity' ? 'an entity' : 'a group'}.`,
            handler: async (c, d) => {
              const current = find(by, c);
              if (by === 'id' && !current) throw badRequest(`${noun} not found`);
              const t = await spec.write(c, d, {
                ...(current ? { id: current.id } : {}),
                ...(by === 'name' ? { name: c.captures.name! } : c.provided.has('name') ? { name: named(d).name } : {}),
              });
              return current ? null : { data: spec.created(t) };
            },
          },
          delete: {
            summary: `Delete ${noun === 'entity' ? 'an entity' : 'a group'}.`,
            handler: async (c) => {
              const t = find(by, c);
              if (t) await spec.remove(t.id);
              return null;
            },
          },
        },
        help: help(`Read, update or delete ${noun === 'entity' ? 'an entity' : 'a group'} by ${by}.`),
      }),
    ),
  ];
}

const listed = (keys: string[], info?: Record<string, unknown>): LogicalResponse | null =>
  keys.length ? { data: { keys: keys.sort(), ...(info ? { key_info: info } : {}) } } : null;

/** The identity/ API over the core's identity store: entities, aliases, groups, lookups, merge. */
export function identityBackend(ctx: Pick<BackendContext, 'system'>, deps: IdentityDeps): Backend {
  const { store } = deps;

  const entityData = (e: Entity): Record<string, unknown> => {
    const all = store.groupsOf(e.id);
    const direct = store.groups().filter((g) => g.memberEntityIds.includes(e.id)).map((g) => g.id);
    return {
      id: e.id,
      name: e.name,
      policies: e.policies,
      metadata: e.metadata,
      disabled: e.disabled,
      aliases: e.aliases.map(aliasData),
      creation_time: e.creationTime,
      last_update_time: e.lastUpdateTime,
      direct_group_ids: direct,
      group_ids: all.map((g) => g.id),
      inherited_group_ids: all.map((g) => g.id).filter((id) => !direct.includes(id)),
      merged_entity_ids: e.mergedEntityIds.length ? e.mergedEntityIds : null,
      namespace_id: 'root',
      bucket_key: '',
      mfa_secrets: {},
    };
  };

  const groupData = (g: Group): Record<string, unknown> => ({
    id: g.id,
    name: g.name,
    type: g.type,
    policies: g.policies,
    metadata: g.metadata,
    member_entity_ids: g.memberEntityIds,
    member_group_ids: g.memberGroupIds,
    parent_group_ids: store.groups().filter((p) => p.memberGroupIds.includes(g.id)).map((p) => p.id),
    alias: g.alias ? groupAliasData(g.alias, deps.mountByAccessor(g.alias.mountAccessor)) : {},
    creation_time: g.creationTime,
    last_update_time: g.lastUpdateTime,
    modify_index: 0,
    namespace_id: 'root',
  });

  const mountOf = (accessor: string): AliasMount => {
    const m = accessor ? deps.mountByAccessor(accessor) : null;
    if (!m) throw badRequest('invalid mount accessor');
    return m;
  };

  const entityFields = {
    id: field.string({ description: 'Id of the entity (to update one).' }),
    name: field.string({ description: 'Name of the entity.' }),
    metadata: field.stringMap({ description: 'Metadata of the entity.' }),
    policies: field.strings({ description: 'Policies the entity grants its tokens.' }),
    disabled: field.bool({ description: 'Refuse every token of the entity.' }),
  };
  const groupFields = {
    id: field.string({ description: 'Id of the group (to update one).' }),
    name: field.string({ description: 'Name of the group.' }),
    type: field.string({ description: '"internal" (default) or "external".' }),
    metadata: field.stringMap({ description: 'Metadata of the group.' }),
    policies: field.strings({ description: 'Policies the group grants its members.' }),
    member_entity_ids: field.strings({ description: 'Entities in the group (internal groups).' }),
    member_group_ids: field.strings({ description: 'Groups in the group (internal groups).' }),
  };

  /** The parts of an entity write the caller sent. */
  const entityChange = (c: PathContext, d: { metadata: Record<string, string>; policies: string[]; disabled: boolean }) => ({
    ...(c.provided.has('metadata') ? { metadata: d.metadata } : {}),
    ...(c.provided.has('policies') ? { policies: d.policies } : {}),
    ...(c.provided.has('disabled') ? { disabled: d.disabled } : {}),
  });
  const groupChange = (c: PathContext, d: { type: string; metadata: Record<string, string>; policies: string[]; member_entity_ids: string[]; member_group_ids: string[] }) => {
    if (c.provided.has('type') && d.type !== 'internal' && d.type !== 'external') throw badRequest('invalid type: must be "internal" or "external"');
    return {
      ...(c.provided.has('type') ? { type: d.type as 'internal' | 'external' } : {}),
      ...(c.provided.has('metadata') ? { metadata: d.metadata } : {}),
      ...(c.provided.has('policies') ? { policies: d.policies } : {}),
      ...(c.provided.has('member_entity_ids') ? { memberEntityIds: d.member_entity_ids } : {}),
      ...(c.provided.has('member_group_ids') ? { memberGroupIds: d.member_group_ids } : {}),
    };
  };

  const paths: CompiledPath[] = [
    // ---- entities --------------------------------------------------------------------------
    ...namedPaths({
      noun: 'entity',
      fields: entityFields,
      all: () => store.entities(),
      byId: (id) => store.entity(id),
      byName: (name) => store.entityByName(name),
      describe: entityData,
      write: (c, d, target) => store.writeEntity({ ...target, ...entityChange(c, d) }),
      remove: (id) => store.deleteEntity(id),
      created: (e) => ({ id: e.id, name: e.name, aliases: null }),
    }),
    definePath({
      pattern: 'entity/merge/?',
      fields: {
        from_entity_ids: field.strings({ description: 'Entities to merge away.', required: true }),
        to_entity_id: field.string({ description: 'Entity to merge into.', required: true }),
        force: field.bool({ description: 'Accepted for compatibility.' }),
      },
      operations: {
        update: {
          summary: 'Merge entities.',
          handler: async (_c, d) => {
            await store.merge(d.to_entity_id, d.from_entity_ids);
            return null;
          },
        },
      },
      help: help('Move the aliases and group memberships of entities into one, deleting the others.'),
    }),

    // ---- entity aliases -------------------------------------------------------------------------
    definePath({
      pattern: 'entity-alias/?',
      fields: {
        id: field.string({ description: 'Id of an alias to update.' }),
        name: field.string({ description: 'The name the auth mount knows the entity by.', required: true }),
        canonical_id: field.string({ description: 'The entity.', required: true }),
        mount_accessor: field.string({ description: 'The auth mount.', required: true }),
        custom_metadata: field.stringMap({ description: 'Metadata set by an operator.' }),
      },
      operations: {
        update: {
          summary: 'Create an entity alias.',
          handler: async (c, d) => {
            const a = await store.writeAlias({
              ...(d.id ? { id: d.id } : {}),
              canonicalId: d.canonical_id,
              mount: mountOf(d.mount_accessor),
              name: d.name,
              ...(c.provided.has('custom_metadata') ? { customMetadata: d.custom_metadata } : {}),
            });
            return { data: { id: a.id, canonical_id: a.canonicalId } };
          },
        },
      },
      help: help('Tie a name at an auth mount to an entity.'),
    }),
    definePath({
      pattern: 'entity-alias/id/?',
      fields: {},
      operations: { list: { summary: 'List entity alias ids.', handler: async () => listed(store.aliases().map((a) => a.id)) } },
      help: help('List entity aliases by id.'),
    }),
    definePath({
      pattern: `entity-alias/id/${ID}`,
      fields: {
        name: field.string({ description: 'New name.' }),
        canonical_id: field.string({ description: 'New entity.' }),
        mount_accessor: field.string({ description: 'New auth mount.' }),
        custom_metadata: field.stringMap({ description: 'Metadata set by an operator.' }),
      },
      operations: {
        read: { summary: 'Read an entity alias.', handler: async (c) => ((a) => (a ? { data: aliasData(a) } : null))(store.alias(c.captures.id!)) },
        update: {
          summary: 'Update an entity alias.',
          handler: async (c, d) => {
            const a = store.alias(c.captures.id!);
            if (!a) throw badRequest('invalid alias ID');
            await store.writeAlias({
              id: a.id,
              canonicalId: d.canonical_id || a.canonicalId,
              mount: d.mount_accessor ? mountOf(d.mount_accessor) : { accessor: a.mountAccessor, type: a.mountType, prefix: a.mountPath },
              name: d.name || a.name,
              ...(c.provided.has('custom_metadata') ? { customMetadata: d.custom_metadata } : {}),
            });
            return null;
          },
        },
        delete: {
          summary: 'Delete an entity alias.',
          handler: async (c) => {
            await store.deleteAlias(c.captures.id!);
            return null;
          },
        },
      },
      help: help('Read, update or delete an entity alias.'),
    }),

    // ---- groups ---------------------------------------------------------------------------------
    ...namedPaths({
      noun: 'group',
      fields: groupFields,
      all: () => store.groups(),
      byId: (id) => store.group(id),
      byName: (name) => store.groupByName(name),
      describe: groupData,
      write: (c, d, target) => store.writeGroup({ ...target, ...groupChange(c, d) }),
      remove: (id) => store.deleteGroup(id),
      created: (g) => ({ id: g.id, name: g.name }),
    }),
    definePath({
      pattern: 'group-alias/?',
      fields: {
        id: field.string({ description: 'Id of a group alias to update.' }),
        name: field.string({ description: 'The group\'s name at the identity provider.', required: true }),
        mount_accessor: field.string({ description: 'The auth mount.', required: true }),
        canonical_id: field.string({ description: 'The external group.', required: true }),
      },
      operations: {
        update: {
          summary: 'Create a group alias.',
          handler: async (_c, d) => {
            mountOf(d.mount_accessor);
            const a = await store.writeGroupAlias({ ...(d.id ? { id: d.id } : {}), canonicalId: d.canonical_id, mountAccessor: d.mount_accessor, name: d.name });
            return { data: { id: a.id, canonical_id: a.canonicalId } };
          },
        },
      },
      help: help('Map an identity provider\'s group name to an external group.'),
    }),
    definePath({
      pattern: 'group-alias/id/?',
      fields: {},
      operations: { list: { summary: 'List group alias ids.', handler: async () => listed(store.groups().flatMap((g) => (g.alias ? [g.alias.id] : []))) } },
      help: help('List group aliases by id.'),
    }),
    definePath({
      pattern: `group-alias/id/${ID}`,
      fields: {},
      operations: {
        read: {
          summary: 'Read a group alias.',
          handler: async (c) => {
            const a = store.groupAlias(c.captures.id!);
            return a ? { data: groupAliasData(a, deps.mountByAccessor(a.mountAccessor)) } : null;
          },
        },
        delete: {
          summary: 'Delete a group alias.',
          handler: async (c) => {
            await store.deleteGroupAlias(c.captures.id!);
            return null;
          },
        },
      },
      help: help('Read or delete a group alias.'),
    }),

    // ---- lookups --------------------------------------------------------------------------------
    definePath({
      pattern: 'lookup/entity',
      fields: {
        id: field.string({ description: 'Entity id.' }),
        name: field.string({ description: 'Entity name.' }),
        alias_id: field.string({ description: 'Id of one of its aliases.' }),
        alias_name: field.string({ description: 'Name of one of its aliases (with alias_mount_accessor).' }),
        alias_mount_accessor: field.string({ description: 'The auth mount of alias_name.' }),
      },
      operations: {
        update: {
          summary: 'Find an entity.',
          handler: async (c, d) => {
            const given = ['id', 'name', 'alias_id', 'alias_name'].filter((k) => c.provided.has(k));
            if (given.length !== 1) throw badRequest('exactly one of id, name, alias_id or alias_name (with alias_mount_accessor) is required');
            let e: Entity | undefined;
            if (d.id) e = store.entity(d.id);
            else if (d.name) e = store.entityByName(d.name);
            else if (d.alias_id) e = ((a) => (a ? store.entity(a.canonicalId) : undefined))(store.alias(d.alias_id));
            else {
              if (!d.alias_mount_accessor) throw badRequest('missing alias_mount_accessor');
              e = store.entities().find((x) => x.aliases.some((a) => a.mountAccessor === d.alias_mount_accessor && a.name === d.alias_name));
            }
            return e ? { data: entityData(e) } : null;
          },
        },
      },
      help: help('Find an entity by id, name or alias.'),
    }),
    definePath({
      pattern: 'lookup/group',
      fields: {
        id: field.string({ description: 'Group id.' }),
        name: field.string({ description: 'Group name.' }),
        alias_id: field.string({ description: 'Id of its alias.' }),
        alias_name: field.string({ description: 'Name of its alias (with alias_mount_accessor).' }),
        alias_mount_accessor: field.string({ description: 'The auth mount of alias_name.' }),
      },
      operations: {
        update: {
          summary: 'Find a group.',
          handler: async (c, d) => {
            const given = ['id', 'name', 'alias_id', 'alias_name'].filter((k) => c.provided.has(k));
            if (given.length !== 1) throw badRequest('exactly one of id, name, alias_id or alias_name (with alias_mount_accessor) is required');
            let g: Group | undefined;
            if (d.id) g = store.group(d.id);
            else if (d.name) g = store.groupByName(d.name);
            else if (d.alias_id) g = store.groups().find((x) => x.alias?.id === d.alias_id);
            else {
              if (!d.alias_mount_accessor) throw badRequest('missing alias_mount_accessor');
              g = store.groupByAlias(d.alias_mount_accessor, d.alias_name);
            }
            return g ? { data: groupData(g) } : null;
          },
        },
      },
      help: help('Find a group by id, name or alias.'),
    }),
  ];

  return defineBackend({ type: 'identity', system: ctx.system, paths });
}
