import type { AuditSinkRegistry } from '../logical/index.js';
import { fileSinkType } from './file.js';
import { socketSinkType } from './socket.js';
import { syslogSinkType } from './syslog.js';

/** The audit device types this build offers, by the name `audit enable` takes. */
export const AUDIT_SINKS: AuditSinkRegistry = {
  file: fileSinkType,
  syslog: syslogSinkType,
  socket: socketSinkType,
};
