/**
 * Vault's glob match for bound names (strutil.GlobbedStringsMatch): `*` matches any run of
 * characters, anything else matches itself; "*" alone matches everything.
 */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!value.startsWith(first) || !value.endsWith(last) || value.length < first.length + last.length) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const i = value.indexOf(middle, at);
    if (i === -1 || i + middle.length > end) return false;
    at = i + middle.length;
  }
  return true;
}

/** True if one of the patterns matches value. */
export const globAny = (patterns: readonly string[], value: string): boolean => patterns.some((p) => globMatch(p, value));
