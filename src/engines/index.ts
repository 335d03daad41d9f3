import type { BackendRegistry } from '../framework/index.js';
import { cubbyholeRegistration } from './cubbyhole/index.js';
import { databaseRegistration } from './database/index.js';
import { kvRegistration } from './kv/index.js';

/** The secrets engines this build offers, by mount type. */
export const ENGINES: BackendRegistry = {
  kv: kvRegistration,
  cubbyhole: cubbyholeRegistration,
  database: databaseRegistration,
};
