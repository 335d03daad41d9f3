/**
 * Canonical layout for HCL text that keeps every comment: re-indent by brace and bracket depth
 * (two spaces), normalise "key=value" spacing, trim trailing blanks and collapse blank runs.
 * It changes layout only, never tokens, so a valid file stays valid and means the same.
 */
export function formatHcl(src: string): string {
  const out: string[] = [];
  let depth = 0;
  let inHeredoc: string | null = null;
  let inBlockComment = false;
  for (const rawLine of src.replace(/\r\n/g, '\n').split('\n')) {
    if (inHeredoc !== null) {
      out.push(rawLine);
      if (rawLine.trim() === inHeredoc) inHeredoc = null;
      continue;
    }
    const line = rawLine.trim();
    if (inBlockComment) {
      out.push(line === '' ? '' : `${'  '.repeat(depth)} ${line}`);
      if (line.includes('*/')) inBlockComment = false;
      continue;
    }
    if (line === '') {
      if (out.length && out[out.length - 1] !== '') out.push('');
      continue;
    }
    const code = stripStringsAndComments(line);
    if (code.startsWith('/*') && !code.includes('*/')) inBlockComment = true;
    const opens = (code.match(/[{[]/g) ?? []).length;
    const closes = (code.match(/[}\]]/g) ?? []).length;
    const leadingCloses = /^[}\]]+/.exec(code)?.[0].length ?? 0;
    const indent = Math.max(0, depth - leadingCloses);
    let spaced = /^[A-Za-z_"][^=]*?\s*=\s*/.test(line) && !line.startsWith('#') && !line.startsWith('//') ? line.replace(/^([^=]*?)\s*=\s*/, '$1 = ') : line;
    // A block header: `key "label" {` with exactly one space before the brace.
    spaced = spaced.replace(/^([A-Za-z_][\w-]*(?:\s+"(?:[^"\\]|\\.)*")*)\s*\{/, '$1 {');
    out.push('  '.repeat(indent) + spaced);
    depth = Math.max(0, depth + opens - closes);
    const heredoc = /<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(code);
    if (heredoc) inHeredoc = heredoc[1]!;
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** The line with string contents and trailing comments blanked, for counting braces. */
function stripStringsAndComments(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++;
      out += '""';
    } else if (c === '#' || (c === '/' && line[i + 1] === '/')) {
      break;
    } else if (c === '/' && line[i + 1] === '*') {
      const end = line.indexOf('*/', i + 2);
      if (end === -1) return `${out}/*`;
      i = end + 1;
    } else {
      out += c;
    }
  }
  return out.trim();
}
