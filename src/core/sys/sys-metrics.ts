import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import type { SysDeps } from './sys-deps.js';

/** Prometheus' text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** sys/metrics: the server's metrics, as go-metrics' JSON or (format=prometheus) Prometheus' text. */
export function metricsPaths(deps: SysDeps): CompiledPath[] {
  return [
    definePath({
      pattern: 'metrics',
      fields: { format: field.string({ description: '"prometheus" for Prometheus\' text format; JSON without it.' }) },
      operations: {
        read: {
          summary: 'Read the server\'s metrics.',
          handler: async (_ctx, d) => {
            if (d.format === 'prometheus') return { raw: await deps.telemetry.prometheus(), contentType: PROMETHEUS_CONTENT_TYPE };
            if (d.format !== '') throw badRequest('unsupported metrics format: use "prometheus", or no format for JSON');
            return { raw: await deps.telemetry.json() };
          },
        },
      },
      help: { synopsis: 'Read the server\'s metrics.', description: 'Timers, counters and gauges under Vault\'s names.' },
    }),
  ];
}
