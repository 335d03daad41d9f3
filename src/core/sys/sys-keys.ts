import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { formatDuration } from '../../util/index.js';
import type { SysDeps } from './sys-deps.js';

/** sys/rotate (sudo), sys/key-status and sys/rotate/config: the barrier's encryption key. */
export function keyPaths(deps: SysDeps): CompiledPath[] {
  const keys = deps.keys;
  return [
    definePath({
      pattern: 'rotate',
      fields: {},
      operations: {
        update: {
          summary: 'Rotate the barrier key.',
          handler: async () => {
            await keys.rotate();
            return null;
          },
        },
      },
      help: { synopsis: 'Rotate the barrier key.', description: 'A new key term encrypts every write from now on; older terms still decrypt what they wrote.' },
    }),
    definePath({
      pattern: 'key-status',
      fields: {},
      operations: { read: { summary: 'Read the barrier key\'s status.', handler: async () => ({ data: { ...keys.status() } }) } },
      help: { synopsis: 'Read the barrier key\'s status.', description: 'The active term, when it was installed and how many values it has encrypted.' },
    }),
    definePath({
      pattern: 'rotate/config',
      fields: {
        max_operations: field.int({ description: 'Encryptions after which the key is rotated (1,000,000 to 3,865,470,566).' }),
        interval: field.durationSeconds({ description: 'Age at which the key is rotated; at least 24h, 0 for none.' }),
        enabled: field.bool({ description: 'Rotate automatically.' }),
      },
      operations: {
        read: {
          summary: 'Read the automatic rotation settings.',
          handler: async () => {
            const c = keys.config();
            return { data: { max_operations: c.max_operations, interval: formatDuration(c.interval), enabled: c.enabled } };
          },
        },
        update: {
          summary: 'Set the automatic rotation settings.',
          handler: async (ctx, d) => {
            await keys.setConfig({
              ...(ctx.provided.has('max_operations') ? { max_operations: d.max_operations } : {}),
              ...(ctx.provided.has('interval') ? { interval: d.interval } : {}),
              ...(ctx.provided.has('enabled') ? { enabled: d.enabled } : {}),
            });
            return null;
          },
        },
      },
      help: { synopsis: 'Configure automatic rotation.', description: 'After a number of encryptions or an age of the active key.' },
    }),
  ];
}
