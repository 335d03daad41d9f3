import type { BackendFactory } from '../core/index.js';
import type { Clock } from '../util/clock.js';
import { cubbyholeBackend } from './cubbyhole/index.js';
import { kvBackend } from './kv/index.js';

/** The secrets engines this build offers, by mount type. */
export function builtinEngines(clock: Clock): Record<string, BackendFactory> {
  return {
    kv: (ctx) => kvBackend(ctx, clock),
    cubbyhole: async () => cubbyholeBackend(),
  };
}
