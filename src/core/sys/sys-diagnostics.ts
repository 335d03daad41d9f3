import { definePath, type CompiledPath } from '../../framework/index.js';
import { hostInfo } from './host-info.js';
import type { SysDeps } from './sys-deps.js';

/**
 * What an operator asks of a running server when something is wrong: the requests it is
 * answering (sys/in-flight-req), the host it runs on (sys/host-info), and the configuration it
 * runs with, without secrets (sys/config/state/sanitized, sudo).
 */
export function diagnosticPaths(deps: SysDeps): CompiledPath[] {
  return [
    definePath({
      pattern: 'in-flight-req',
      fields: {},
      operations: {
        // As Vault's: the map of request ids itself, outside the envelope.
        read: { summary: 'List the requests being answered.', handler: async () => ({ raw: deps.inFlight.list() }) },
      },
      help: { synopsis: 'List the requests being answered.', description: 'Each request by id: when it started, from where, its path and method.' },
    }),
    definePath({
      pattern: 'host-info',
      fields: {},
      operations: {
        read: { summary: 'Describe the host.', handler: async () => ({ data: hostInfo() }) },
      },
      help: { synopsis: 'Describe the host.', description: 'CPUs, CPU times, disk usage, the host and its memory, in gopsutil\'s field names as Vault answers.' },
    }),
    definePath({
      pattern: 'config/state/sanitized',
      fields: {},
      operations: {
        read: { summary: 'Read the configuration, without secrets.', handler: async () => ({ data: { ...deps.sanitizedConfig } }) },
      },
      help: { synopsis: 'Read the configuration, without secrets.', description: 'The server configuration file as the server read it, with nothing secret in it.' },
    }),
  ];
}
