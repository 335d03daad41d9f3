import { defineBackend, definePath, defineSecret, field, genericName, type BackendRegistry } from '../../framework/index.js';

/**
 * A stand-in engine that mints a "user" per read of creds/:name, as the database engine does,
 * and records which users it was asked to revoke. `failing` makes its revocations fail.
 */
export function leasingEngine() {
  const revoked: string[] = [];
  const renewed: string[] = [];
  const state = { failing: false, minted: 0 };
  const creds = defineSecret({
    type: 'creds',
    renew: async (ctx) => {
      renewed.push(String(ctx.internalData['user']));
      const t = ctx.ttlWithin({ ttl: 60, maxTtl: 300 });
      return { ttl: t.ttl, warnings: t.warnings };
    },
    revoke: async (ctx) => {
      if (state.failing) throw new Error('connection refused by the stand-in database');
      revoked.push(String(ctx.internalData['user']));
    },
  });
  const registry: BackendRegistry = {
    leasing: {
      factory: async (ctx) =>
        defineBackend({
          type: 'leasing',
          system: ctx.system,
          secrets: [creds],
          paths: [
            definePath({
              pattern: `creds/${genericName('name')}`,
              fields: { name: field.string({ description: 'Role.' }), ttl: field.durationSeconds({ description: 'TTL.' }) },
              operations: {
                read: {
                  summary: 'Mint a user.',
                  handler: async (_c, d) => {
                    const user = `u${++state.minted}`;
                    return { data: { username: user }, secret: { type: 'creds', ttl: d.ttl || 60, maxTtl: 300, internalData: { user } } };
                  },
                },
              },
              help: { synopsis: 'Mint.', description: 'Mint a user.' },
            }),
          ],
        }),
    },
  };
  return { registry, revoked, renewed, state };
}
