import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import type { SysDeps } from './sys-deps.js';

/**
 * sys/audit (list, enable, disable devices), sys/audit-hash (a value as a device hashes it) and
 * sys/config/auditing/request-headers (which request headers the entries record).
 */
export function auditPaths(deps: SysDeps): CompiledPath[] {
  const audit = deps.audit;
  return [
    definePath({
      pattern: 'audit/?',
      fields: {},
      operations: {
        read: {
          summary: 'List the enabled audit devices.',
          handler: async () => {
            const data: Record<string, unknown> = {};
            for (const e of audit.list()) data[e.path] = { type: e.type, description: e.description, options: e.options, local: e.local, path: e.path };
            return { data };
          },
        },
      },
      help: { synopsis: 'List the enabled audit devices.', description: 'Each enabled device by path: its type, description and options.' },
    }),
    definePath({
      pattern: 'audit/(?<path>.+)',
      fields: {
        path: field.string({ description: 'Where the device is enabled.', required: true }),
        type: field.string({ description: 'The device type: file, syslog or socket.' }),
        description: field.string({ description: 'What the device is for.' }),
        options: field.stringMap({ description: 'The device\'s options, e.g. {"file_path": "/var/log/coffer/audit.log"}.' }),
        local: field.bool({ description: 'Kept on this cluster only (not replicated).' }),
      },
      operations: {
        update: {
          summary: 'Enable an audit device.',
          handler: async (_ctx, d) => {
            if (!d.type) throw badRequest('missing type');
            await audit.enable({ path: d.path, type: d.type, description: d.description, options: d.options, local: d.local });
            return null;
          },
        },
        delete: {
          summary: 'Disable an audit device.',
          handler: async (_ctx, d) => {
            await audit.disable(d.path);
            return null;
          },
        },
      },
      help: { synopsis: 'Enable or disable an audit device.', description: 'A device records every request and response from the moment it is enabled.' },
    }),
    definePath({
      pattern: 'audit-hash/(?<path>.+)',
      fields: {
        path: field.string({ description: 'The audit device.', required: true }),
        input: field.string({ description: 'The value to hash.', required: true }),
      },
      operations: {
        update: {
          summary: 'Hash a value as an audit device does.',
          handler: async (_ctx, d) => ({ data: { hash: audit.hash(d.path, d.input) } }),
        },
      },
      help: { synopsis: 'Hash a value with an audit device\'s salt.', description: 'Answers what the device writes for the value, to find it in the log.' },
    }),
    definePath({
      pattern: 'config/auditing/request-headers/?',
      fields: {},
      operations: {
        read: {
          summary: 'List the audited request headers.',
          handler: async () => ({ data: { headers: Object.fromEntries(audit.headers()) } }),
        },
      },
      help: { synopsis: 'List the audited request headers.', description: 'The request headers the audit entries record, and whether each is hashed.' },
    }),
    definePath({
      pattern: 'config/auditing/request-headers/(?<header>.+)',
      fields: {
        header: field.string({ description: 'The header name.', required: true }),
        hmac: field.bool({ description: 'Hash the header\'s values in the entries.' }),
      },
      operations: {
        read: {
          summary: 'Read an audited request header.',
          handler: async (_ctx, d) => {
            const name = d.header.toLowerCase();
            const settings = audit.headers().get(name);
            if (!settings) throw badRequest('Could not find header in config');
            return { data: { [name]: settings } };
          },
        },
        update: {
          summary: 'Audit a request header.',
          handler: async (_ctx, d) => {
            await audit.setHeader(d.header, d.hmac);
            return null;
          },
        },
        delete: {
          summary: 'Stop auditing a request header.',
          handler: async (_ctx, d) => {
            await audit.deleteHeader(d.header);
            return null;
          },
        },
      },
      help: { synopsis: 'Audit a request header.', description: 'Names a request header the audit entries record, hashed or as sent.' },
    }),
  ];
}
