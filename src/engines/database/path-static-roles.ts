import { CronExpressionParser } from 'cron-parser';
import { definePath, field, genericName, type CompiledPath, type FieldValues, type PathContext } from '../../framework/index.js';
import { badRequest, type StorageView, type SystemView } from '../../logical/index.js';
import type { KeyedMutex } from '../../util/index.js';
import type { Connections } from './connections.js';
import { listPath } from './path-list.js';
import { dbKeys, loadConfig, loadStaticRole, roleAllowed, saveStaticRole, type StaticRole } from './db-store.js';
import { asRequestError } from './plugins/index.js';
import { checkStatementValues } from './statements.js';

const MIN_ROTATION_PERIOD = 5;

const staticFields = {
  name: field.string({ description: 'Name of the static role.', required: true }),
  db_name: field.string({ description: 'The connection the role uses.' }),
  username: field.string({ description: 'The existing database user whose password coffer rotates.' }),
  rotation_period: field.durationSeconds({ description: 'Time between rotations (at least 5s).' }),
  rotation_schedule: field.string({ description: 'A cron schedule (UTC) for rotations, instead of a period.' }),
  rotation_window: field.durationSeconds({ description: 'Accepted for compatibility.' }),
  rotation_statements: field.stringSlice({ description: 'Statements that set the password; the plugin\'s default when empty.' }),
  credential_type: field.string({ description: 'Only "password".', default: 'password' }),
  skip_import_rotation: field.bool({ description: 'Accepted; coffer always rotates at import so only it knows the password.' }),
};

/** When a role rotates next after `from`. */
export function nextRotation(role: Pick<StaticRole, 'rotation_period' | 'rotation_schedule'>, from: number): number {
  if (role.rotation_schedule) return CronExpressionParser.parse(role.rotation_schedule, { currentDate: new Date(from), tz: 'UTC' }).next().getTime();
  return from + role.rotation_period * 1000;
}

/**
 * Give a static role a new password: kept in storage as pending before the database changes,
 * so a crash between the two is finished by the next rotation instead of losing the password.
 */
export interface RotationDeps {
  readonly conns: Connections;
  /** One rotation per role at a time (the periodic run and rotate-role may meet). */
  readonly mutex: KeyedMutex;
}

export function rotate(deps: RotationDeps, view: StorageView, system: SystemView, name: string): Promise<StaticRole> {
  return deps.mutex.run(name, () => rotateNow(deps.conns, view, system, name));
}

async function rotateNow(conns: Connections, view: StorageView, system: SystemView, name: string): Promise<StaticRole> {
  const role = await loadStaticRole(view, name);
  if (!role) throw badRequest(`unknown static role: ${name}`);
  const config = await loadConfig(view, role.db_name);
  if (!config) throw badRequest(`static role "${name}" names database "${role.db_name}", which is not configured`);
  const password = role.pending_password ?? (await system.generatePassword(config.password_policy));
  checkStatementValues({ password });
  if (!role.pending_password) await saveStaticRole(view, name, { ...role, pending_password: password });
  const now = system.clock.now();
  try {
    const conn = await conns.get(role.db_name);
    await conn.plugin.updateUser({ username: role.username, password: { value: password, statements: role.rotation_statements } });
  } catch (e) {
    const message = e instanceof Error ? e.message : 'rotation failed';
    // Tried again at the next periodic run; the old password stays in use meanwhile.
    await saveStaticRole(view, name, { ...role, pending_password: password, last_rotation_error: message });
    throw asRequestError(e, `failed to rotate the password of static role "${name}"`);
  }
  const rotated: StaticRole = {
    db_name: role.db_name,
    username: role.username,
    rotation_period: role.rotation_period,
    rotation_schedule: role.rotation_schedule,
    rotation_statements: role.rotation_statements,
    credential_type: role.credential_type,
    password,
    last_vault_rotation: now,
    next_rotation: nextRotation(role, now),
  };
  await saveStaticRole(view, name, rotated);
  return rotated;
}

/** Rotate every static role that is due (the core's periodic call). */
export async function rotateDue(deps: RotationDeps, view: StorageView, system: SystemView): Promise<void> {
  for (const name of await view.list('static-role/')) {
    const role = await loadStaticRole(view, name);
    if (!role || (role.next_rotation > system.clock.now() && !role.pending_password)) continue;
    await rotate(deps, view, system, name).catch((e: unknown) => {
      system.logger.warn('static role rotation failed; retrying at the next periodic run', { role: name, error: e instanceof Error ? e.message : 'error' });
    });
  }
}

function staticData(r: StaticRole, now: number): Record<string, unknown> {
  return {
    db_name: r.db_name,
    username: r.username,
    rotation_statements: r.rotation_statements,
    credential_type: r.credential_type,
    last_vault_rotation: new Date(r.last_vault_rotation).toISOString(),
    ...(r.rotation_schedule ? { rotation_schedule: r.rotation_schedule } : { rotation_period: r.rotation_period }),
    ttl: Math.max(0, Math.floor((r.next_rotation - now) / 1000)),
  };
}

export function staticRolePaths(deps: RotationDeps): CompiledPath[] {
  const write = async (ctx: PathContext, d: FieldValues<typeof staticFields>) => {
    const old = await loadStaticRole(ctx.storage, d.name);
    const given = (k: keyof typeof staticFields) => ctx.provided.has(k);
    if (old && given('username') && d.username !== old.username) throw badRequest('cannot update static account username');
    if (old && given('db_name') && d.db_name !== old.db_name) throw badRequest('cannot update static role db_name');
    const username = old?.username ?? d.username;
    const dbName = old?.db_name ?? d.db_name;
    if (!username) throw badRequest('username is a required field to create a static account');
    if (!dbName) throw badRequest('database name is a required field');
    const schedule = given('rotation_schedule') ? d.rotation_schedule : given('rotation_period') ? '' : old?.rotation_schedule ?? '';
    const period = given('rotation_period') ? d.rotation_period : given('rotation_schedule') ? 0 : old?.rotation_period ?? 0;
    if (schedule && period) throw badRequest('mutually exclusive fields rotation_period and rotation_schedule were both specified');
    if (!schedule && !period) throw badRequest('one of rotation_schedule or rotation_period must be provided');
    if (period && period < MIN_ROTATION_PERIOD) throw badRequest(`rotation_period must be ${MIN_ROTATION_PERIOD} seconds or more`);
    if (schedule) {
      try {
        CronExpressionParser.parse(schedule, { tz: 'UTC' });
      } catch {
        throw badRequest('rotation_schedule is not a valid cron expression');
      }
    }
    if (d.credential_type !== 'password') throw badRequest('unsupported credential_type: only "password" is supported');
    const config = await loadConfig(ctx.storage, dbName);
    if (!config) throw badRequest(`unknown database "${dbName}": write database config/${dbName} first`);
    if (!roleAllowed(config, d.name)) throw badRequest(`"${d.name}" is not an allowed role`);
    const now = ctx.system.clock.now();
    const role: StaticRole = {
      db_name: dbName,
      username,
      rotation_period: period,
      rotation_schedule: schedule,
      rotation_statements: given('rotation_statements') ? d.rotation_statements : old?.rotation_statements ?? [],
      credential_type: 'password',
      password: old?.password ?? '',
      last_vault_rotation: old?.last_vault_rotation ?? 0,
      next_rotation: nextRotation({ rotation_period: period, rotation_schedule: schedule }, old?.last_vault_rotation || now),
    };
    await saveStaticRole(ctx.storage, d.name, role);
    // A new role takes over its user at once: afterwards only coffer knows the password.
    if (!old) {
      try {
        await rotate(deps, ctx.storage, ctx.system, d.name);
      } catch (e) {
        await ctx.storage.delete(dbKeys.staticRole(d.name));
        throw e;
      }
    }
    return null;
  };

  return [
    listPath({ pattern: 'static-roles', folder: 'static-role/', summary: 'List static roles.', description: 'Names of the static roles.' }),
    definePath({
      pattern: `static-roles/${genericName('name')}`,
      fields: staticFields,
      existenceCheck: async (ctx) => (await loadStaticRole(ctx.storage, ctx.captures['name'] ?? '')) !== null,
      operations: {
        read: {
          summary: 'Read a static role.',
          handler: async (ctx, d) => {
            const r = await loadStaticRole(ctx.storage, d.name);
            return r ? { data: staticData(r, ctx.system.clock.now()) } : null;
          },
        },
        create: { summary: 'Write a static role.', handler: write },
        update: { summary: 'Write a static role.', handler: write },
        delete: {
          summary: 'Delete a static role (the database user stays).',
          handler: async (ctx, d) => {
            await ctx.storage.delete(dbKeys.staticRole(d.name));
            return null;
          },
        },
      },
      help: { synopsis: 'Manage static roles.', description: 'coffer rotates the password of an existing user on a period or schedule.' },
    }),
    definePath({
      pattern: `static-creds/${genericName('name')}`,
      fields: { name: staticFields.name },
      operations: {
        read: {
          summary: 'Read a static role\'s current credentials.',
          handler: async (ctx, d) => {
            const r = await loadStaticRole(ctx.storage, d.name);
            if (!r) return null;
            return { data: { username: r.username, password: r.password, ...staticData(r, ctx.system.clock.now()) } };
          },
        },
      },
      help: { synopsis: 'Read static credentials.', description: 'The password changes at each rotation.' },
    }),
    definePath({
      pattern: `rotate-role/${genericName('name')}`,
      fields: { name: staticFields.name },
      operations: {
        update: {
          summary: 'Rotate a static role\'s password now.',
          handler: async (ctx, d) => {
            await rotate(deps, ctx.storage, ctx.system, d.name);
            return null;
          },
        },
      },
      help: { synopsis: 'Rotate a static role now.', description: 'The schedule continues from now.' },
    }),
  ];
}
