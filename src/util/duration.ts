
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** A value that is not a duration. The message names the field, never the value. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/**
 * Parse a duration the way Vault's parseutil does: an integer (seconds), a numeric string, or a
 * Go duration string such as "1h30m" (plus "d" for days). Fractional results round down.
 */
export function parseDurationSeconds(raw: unknown, field: string): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0) throw new DurationError(`invalid duration for "${field}": must be non-negative`);
    return Math.floor(raw);
  }
  if (typeof raw !== 'string') throw new DurationError(`invalid duration for "${field}"`);
  const s = raw.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
    consumed = re.lastIndex;
  }
  // The value is never quoted back: a secret pasted into the wrong field must not reappear in an
  // error, a log line or an audit entry.
  if (consumed !== s.length || consumed === 0) throw new DurationError(`invalid duration for "${field}": expected seconds or a duration such as "90s" or "1h30m"`);
  return Math.floor(total);
}

/** Format seconds as Go's time.Duration String() does ("768h0m0s", "1h30m0s", "0s"). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
