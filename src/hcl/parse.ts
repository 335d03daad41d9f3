import type { HclItem, HclObject, HclValue } from './ast.js';

/** A syntax error with the line it was found on. */
export class HclSyntaxError extends Error {
  override readonly name = 'HclSyntaxError';
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

type Token =
  | { t: 'ident' | 'string' | 'heredoc'; v: string; line: number }
  | { t: 'number'; v: number; line: number }
  | { t: 'punct'; v: '{' | '}' | '[' | ']' | '=' | ':' | ','; line: number }
  | { t: 'newline'; line: number }
  | { t: 'eof'; line: number };

const MAX_DEPTH = 64;

/** Tokenise HCL1 (and JSON, which is a subset in this grammar). */
function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const err = (m: string) => new HclSyntaxError(line, m);
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      out.push({ t: 'newline', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw err('unterminated comment');
      for (let j = i; j < end; j++) if (src[j] === '\n') line++;
      i = end + 2;
    } else if ('{}[]=:,'.includes(c)) {
      out.push({ t: 'punct', v: c as '{', line });
      i++;
    } else if (c === '"') {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length || src[i] === '\n') throw err('unterminated string');
        const ch = src[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f' };
          if (e !== undefined && e in simple) {
            s += simple[e];
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            s += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            throw err('invalid escape in string');
          }
        } else {
          s += ch;
          i++;
        }
      }
      i++;
      out.push({ t: 'string', v: s, line: start });
    } else if (c === '<' && src[i + 1] === '<') {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(src.slice(i));
      if (!m) throw err('invalid heredoc');
      const indent = m[1] === '-';
      const marker = m[2]!;
      const start = line;
      i += m[0].length;
      line++;
      const lines: string[] = [];
      for (;;) {
        if (i >= src.length) throw err(`heredoc "${marker}" is not terminated`);
        let nl = src.indexOf('\n', i);
        if (nl === -1) nl = src.length;
        const text = src.slice(i, nl).replace(/\r$/, '');
        i = nl;
        if (text.trim() === marker && (indent || text === marker)) break;
        lines.push(text);
        i++;
        line++;
      }
      if (indent) {
        const widths = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
        const strip = widths.length ? Math.min(...widths) : 0;
        for (let k = 0; k < lines.length; k++) lines[k] = lines[k]!.slice(strip);
      }
      out.push({ t: 'heredoc', v: lines.length ? `${lines.join('\n')}\n` : '', line: start });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
      if (!m) throw err(`unexpected character "${c}"`);
      out.push({ t: 'number', v: Number(m[0]), line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i))!;
      out.push({ t: 'ident', v: m[0], line });
      i += m[0].length;
    } else {
      throw err(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  out.push({ t: 'eof', line });
  return out;
}

class Parser {
  #pos = 0;
  constructor(readonly toks: Token[]) {}

  peek(skipNewlines = true): Token {
    if (skipNewlines) while (this.toks[this.#pos]!.t === 'newline') this.#pos++;
    return this.toks[this.#pos]!;
  }
  next(): Token {
    const t = this.peek();
    this.#pos++;
    return t;
  }
  isPunct(t: Token, v: string): boolean {
    return t.t === 'punct' && t.v === v;
  }

  /** Items until `end` ('}' or eof). Items are separated by newlines or commas. */
  body(end: '}' | 'eof', depth: number): HclItem[] {
    if (depth > MAX_DEPTH) throw new HclSyntaxError(this.peek().line, 'nesting too deep');
    const items: HclItem[] = [];
    for (;;) {
      const t = this.peek();
      if (end === 'eof' ? t.t === 'eof' : this.isPunct(t, '}')) return items;
      if (t.t === 'eof') throw new HclSyntaxError(t.line, 'unexpected end of input, expected "}"');
      items.push(this.item(depth));
      const sep = this.peek(false);
      if (this.isPunct(sep, ',')) this.#pos++;
      else if (sep.t !== 'newline' && sep.t !== 'eof' && !this.isPunct(sep, '}')) {
        throw new HclSyntaxError(sep.line, 'expected a newline or "," after an item');
      }
    }
  }

  item(depth: number): HclItem {
    const k = this.next();
    if (k.t !== 'ident' && k.t !== 'string') throw new HclSyntaxError(k.line, 'expected a key');
    const labels: string[] = [];
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, '=') || this.isPunct(t, ':')) {
        this.#pos++;
        const value = this.value(depth + 1);
        return { key: k.v, value: wrapLabels(labels, value, k.line), line: k.line };
      }
      if (this.isPunct(t, '{')) {
        const value = this.value(depth + 1);
        return { key: k.v, value: wrapLabels(labels, value, k.line), line: k.line };
      }
      if (t.t === 'string' || t.t === 'ident') {
        labels.push(t.v);
        this.#pos++;
        continue;
      }
      throw new HclSyntaxError(t.line, `expected "=" or "{" after key "${k.v}"`);
    }
  }

  value(depth: number): HclValue {
    if (depth > MAX_DEPTH) throw new HclSyntaxError(this.peek().line, 'nesting too deep');
    const t = this.next();
    switch (t.t) {
      case 'string':
      case 'heredoc':
        return { kind: 'string', value: t.v, line: t.line };
      case 'number':
        return { kind: 'number', value: t.v, line: t.line };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'bool', value: t.v === 'true', line: t.line };
        if (t.v === 'null') return { kind: 'null', line: t.line };
        throw new HclSyntaxError(t.line, `unexpected word "${t.v}"; strings must be quoted`);
      case 'punct':
        if (t.v === '{') {
          const items = this.body('}', depth);
          this.next();
          return { kind: 'object', items, line: t.line };
        }
        if (t.v === '[') {
          const items: HclValue[] = [];
          for (;;) {
            if (this.isPunct(this.peek(), ']')) break;
            items.push(this.value(depth + 1));
            const sep = this.peek();
            if (this.isPunct(sep, ',')) this.#pos++;
            else if (!this.isPunct(sep, ']')) throw new HclSyntaxError(sep.line, 'expected "," or "]" in list');
          }
          this.next();
          return { kind: 'list', items, line: t.line };
        }
        throw new HclSyntaxError(t.line, `unexpected "${t.v}"`);
      default:
        throw new HclSyntaxError(t.line, 'unexpected end of input');
    }
  }
}

function wrapLabels(labels: string[], value: HclValue, line: number): HclValue {
  let v = value;
  for (let i = labels.length - 1; i >= 0; i--) v = { kind: 'object', items: [{ key: labels[i]!, value: v, line }], line };
  return v;
}

/** Parse HCL1 or JSON text into a root object. */
export function parseHcl(src: string): HclObject {
  const p = new Parser(lex(src));
  const first = p.peek();
  if (first.t === 'punct' && first.v === '{') {
    // JSON document (or HCL wrapped in braces): one top-level object.
    const v = p.value(0);
    const rest = p.peek();
    if (rest.t !== 'eof') throw new HclSyntaxError(rest.line, 'unexpected content after the top-level object');
    if (v.kind !== 'object') throw new HclSyntaxError(first.line, 'expected an object');
    return v;
  }
  return { kind: 'object', items: p.body('eof', 0), line: 1 };
}
