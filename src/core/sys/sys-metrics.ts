import { definePath, field, type CompiledPath } from '../../framework/index.js';
import type { SysDeps } from './sys-deps.js';

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
            const out = await deps.telemetry.answer(d.format);
            return 'text' in out ? { raw: out.text, contentType: out.contentType } : { raw: out.json };
          },
        },
      },
      help: { synopsis: 'Read the server\'s metrics.', description: 'Timers, counters and gauges under Vault\'s names.' },
    }),
  ];
}
