import { createHash, randomUUID } from 'node:crypto';
import { badRequest } from '../../logical/index.js';
import { randomBase62 } from '../../util/index.js';

/**
 * Vault's username templates: the part of Go's text/template they use. Actions `{{ … }}` hold a
 * pipeline of commands joined by "|", each a function with arguments (`.DisplayName`, `.RoleName`,
 * "strings", numbers, parenthesised pipelines); a pipeline passes each result on as the last
 * argument of the next command. Functions: printf, truncate, truncate_sha256, random, uppercase,
 * lowercase, replace, sha256, base64, unix_time, unix_time_millis, timestamp, uuid.
 *
 * A template is parsed once (at role or config write, where a bad one is a 400) and rendered
 * per credential.
 */
export interface UsernameFields {
  readonly DisplayName: string;
  readonly RoleName: string;
}

type Node =
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'field'; readonly name: keyof UsernameFields }
  | { readonly kind: 'literal'; readonly value: string | number }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Node[] };

export interface CompiledTemplate {
  render(fields: UsernameFields, now: number): string;
}

const str = (v: string | number): string => String(v);
const int = (v: string | number, fn: string): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`username_template: ${fn} needs a non-negative integer`);
  return n;
};

/** The functions, by name: each takes its evaluated arguments. */
const FUNCS: Record<string, (args: (string | number)[], now: number) => string | number> = {
  printf: ([fmt, ...rest]) => {
    let i = 0;
    return str(fmt ?? '').replace(/%[sdv%]/g, (m) => (m === '%%' ? '%' : str(rest[i++] ?? '')));
  },
  truncate: ([n, s]) => str(s ?? '').slice(0, int(n ?? 0, 'truncate')),
  truncate_sha256: ([n, s]) => {
    const max = int(n ?? 0, 'truncate_sha256');
    const v = str(s ?? '');
    if (v.length <= max) return v;
    const keep = Math.max(0, max - 64);
    return v.slice(0, keep) + createHash('sha256').update(v.slice(keep)).digest('hex');
  },
  random: ([n]) => randomBase62(int(n ?? 0, 'random')),
  uppercase: ([s]) => str(s ?? '').toUpperCase(),
  lowercase: ([s]) => str(s ?? '').toLowerCase(),
  replace: ([from, to, s]) => str(s ?? '').split(str(from ?? '')).join(str(to ?? '')),
  sha256: ([s]) => createHash('sha256').update(str(s ?? '')).digest('hex'),
  base64: ([s]) => Buffer.from(str(s ?? '')).toString('base64'),
  unix_time: (_a, now) => Math.floor(now / 1000),
  unix_time_millis: (_a, now) => now,
  timestamp: (_a, now) => new Date(now).toISOString(),
  uuid: () => randomUUID(),
};

/** Tokens of one action's text. */
function tokenize(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += c === '"' && src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw badRequest('username_template: unterminated string');
      out.push(src.slice(i, j + 1));
      i = j + 1;
    } else if ('|()'.includes(c)) {
      out.push(c);
      i++;
    } else {
      let j = i;
      while (j < src.length && !/[\s|()"`]/.test(src[j]!)) j++;
      out.push(src.slice(i, j));
      i = j;
    }
  }
  return out;
}

function parsePipeline(tokens: string[], pos: { i: number }): Node {
  let node = parseCommand(tokens, pos, null);
  while (tokens[pos.i] === '|') {
    pos.i++;
    node = parseCommand(tokens, pos, node);
  }
  return node;
}

function parseCommand(tokens: string[], pos: { i: number }, piped: Node | null): Node {
  const operands: Node[] = [];
  while (pos.i < tokens.length && tokens[pos.i] !== '|' && tokens[pos.i] !== ')') operands.push(parseOperand(tokens, pos));
  const [head, ...args] = operands;
  if (!head) throw badRequest('username_template: empty command');
  if (head.kind === 'call' && head.args.length === 0 && FUNCS[head.fn]) {
    return { kind: 'call', fn: head.fn, args: piped ? [...args, piped] : args };
  }
  if (args.length > 0 || piped) throw badRequest('username_template: only a function can take arguments');
  return head;
}

function parseOperand(tokens: string[], pos: { i: number }): Node {
  const t = tokens[pos.i++]!;
  if (t === '(') {
    const inner = parsePipeline(tokens, pos);
    if (tokens[pos.i++] !== ')') throw badRequest('username_template: unbalanced parentheses');
    return inner;
  }
  if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'literal', value: t.slice(1, -1) };
  if (/^\d+$/.test(t)) return { kind: 'literal', value: Number(t) };
  if (t === '.DisplayName' || t === '.RoleName') return { kind: 'field', name: t.slice(1) as keyof UsernameFields };
  if (FUNCS[t]) return { kind: 'call', fn: t, args: [] };
  throw badRequest('username_template: unknown function or field');
}

function evaluate(node: Node, fields: UsernameFields, now: number): string | number {
  switch (node.kind) {
    case 'text':
    case 'literal':
      return node.value;
    case 'field':
      return fields[node.name];
    case 'call':
      return FUNCS[node.fn]!(node.args.map((a) => evaluate(a, fields, now)), now);
  }
}

/** Parse a template; a 400 naming username_template (never echoing it) if it is not valid. */
export function compileUsernameTemplate(template: string): CompiledTemplate {
  const nodes: Node[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      nodes.push({ kind: 'text', value: rest });
      break;
    }
    if (open > 0) nodes.push({ kind: 'text', value: rest.slice(0, open) });
    const close = rest.indexOf('}}', open);
    if (close === -1) throw badRequest('username_template: unterminated action');
    const body = rest.slice(open + 2, close).replace(/^-\s/, '').replace(/\s-$/, '');
    const tokens = tokenize(body);
    const pos = { i: 0 };
    nodes.push(parsePipeline(tokens, pos));
    if (pos.i !== tokens.length) throw badRequest('username_template: unexpected token');
    rest = rest.slice(close + 2);
  }
  return { render: (fields, now) => nodes.map((n) => str(evaluate(n, fields, now))).join('') };
}
