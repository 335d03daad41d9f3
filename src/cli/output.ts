import { formatDuration } from '../util/duration.js';

/** Vault's three output formats, and -field. */
export type Format = 'table' | 'json' | 'yaml';

export function parseFormat(raw: string): Format {
  const f = (raw || process.env['COFFER_FORMAT'] || process.env['VAULT_FORMAT'] || 'table').toLowerCase();
  if (f !== 'table' && f !== 'json' && f !== 'yaml') throw new Error(`Invalid output format: ${f}`);
  return f;
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[${v.join(' ')}]`;
  return JSON.stringify(v);
}

/** A two-column table with Vault's "Key / ---" header. */
export function table(rows: readonly (readonly [string, unknown])[], headers: readonly [string, string] = ['Key', 'Value']): string {
  if (rows.length === 0) return '';
  const width = Math.max(headers[0].length, ...rows.map(([k]) => k.length));
  const line = (k: string, v: string) => `${k.padEnd(width)}    ${v}`.trimEnd();
  return [line(headers[0], headers[1]), line('-'.repeat(headers[0].length), '-'.repeat(headers[1].length)), ...rows.map(([k, v]) => line(k, formatValue(v)))].join('\n');
}

export function sortedRows(data: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(data).sort().map((k) => [k, data[k]]);
}

/** Plain YAML scalars cannot start with an indicator, hold ": " or " #", or look like another type. */
function needsQuotes(x: string): boolean {
  return (
    x === '' ||
    /^[-?:,[\]{}#&*!|>'"%@`\s]/.test(x) ||
    /: |\s#|\n|\s$|:$/.test(x) ||
    /^(true|false|yes|no|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-fA-F]+)$/i.test(x)
  );
}

/** A small YAML emitter for JSON values (what `-format=yaml` needs). */
export function toYaml(v: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  const scalar = (x: unknown): string => {
    if (x === null || x === undefined) return 'null';
    if (typeof x === 'string') return needsQuotes(x) ? JSON.stringify(x) : x;
    return String(x);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}[]`;
    return v.map((x) => (typeof x === 'object' && x !== null ? `${pad}-\n${toYaml(x, indent + 2)}` : `${pad}- ${scalar(x)}`)).join('\n');
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    if (entries.length === 0) return `${pad}{}`;
    return entries
      .map(([k, x]) => {
        const key = scalar(k);
        if (typeof x === 'object' && x !== null && (Array.isArray(x) ? x.length : Object.keys(x).length)) return `${pad}${key}:\n${toYaml(x, indent + 2)}`;
        return `${pad}${key}: ${typeof x === 'object' && x !== null ? (Array.isArray(x) ? '[]' : '{}') : scalar(x)}`;
      })
      .join('\n');
  }
  return `${pad}${scalar(v)}`;
}

export function render(format: Format, value: unknown, tableText: () => string): string {
  if (format === 'json') return JSON.stringify(value, null, 2);
  if (format === 'yaml') return toYaml(value);
  return tableText();
}

/** Durations as the Vault CLI prints them: "768h", "1h30m", "45s". */
export function humanDuration(seconds: number): string {
  const s = formatDuration(seconds);
  return s === '0s' ? s : s.replace(/(\d+h)0m0s$/, '$1').replace(/(\d+m)0s$/, '$1');
}
