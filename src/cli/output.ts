import { formatDuration } from '../util/index.js';

/** Vault's three output formats, and -field. */
export type Format = 'table' | 'json' | 'yaml';

export function parseFormat(raw: string): Format {
  const f = (raw || process.env['COFFER_FORMAT'] || process.env['VAULT_FORMAT'] || 'table').toLowerCase();
  if (f !== 'table' && f !== 'json' && f !== 'yaml') throw new Error(`Invalid output format: ${f}`);
  return f;
}

/**
 * A value as the Vault CLI prints it in a table, which is Go's %v: `<nil>`, `[a b]` for a list,
 * `map[k:v]` for an object (keys sorted), and "n/a" for an empty cell.
 */
export function formatValue(v: unknown): string {
  const s = goValue(v);
  return s === '' ? 'n/a' : s;
}

function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goValue(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Keys whose numeric values the Vault CLI prints as durations ("768h", "1h30m"). */
export function looksLikeDuration(key: string): boolean {
  return ['period', 'ttl', 'duration', 'lease_max', 'ttl_max'].includes(key) || /_(period|ttl|duration)$/.test(key);
}

/** A data row's value as printed: durations for TTL-like keys, the value otherwise. */
export function displayValue(key: string, v: unknown): unknown {
  return looksLikeDuration(key) && typeof v === 'number' ? humanDuration(v) : v;
}

/** A two-column table with Vault's "Key / ---" header. */
export function table(rows: readonly (readonly [string, unknown])[], headers: readonly [string, string] = ['Key', 'Value']): string {
  if (rows.length === 0) return '';
  return columns([headers, ...rows.map(([k, v]): [string, string] => [k, formatValue(v)])]);
}

/** Rows of cells aligned in columns four spaces apart, under a header row and its dashes; empty cells read "n/a". */
export function columns(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  if (!head) return '';
  const all = [head, head.map((h) => '-'.repeat(h.length)), ...body.map((r) => r.map((c) => (c === '' ? 'n/a' : c)))];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('    ').trimEnd()).join('\n');
}

/** Label and value in two columns four spaces apart, without a header (Vault's columnOutput). */
export function pairs(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}    ${v}`.trimEnd()).join('\n');
}

export function sortedRows(data: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(data).sort().map((k) => [k, displayValue(k, data[k])]);
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
