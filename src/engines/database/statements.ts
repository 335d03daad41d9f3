import { badRequest } from '../../logical/index.js';

/**
 * Split statements as roles hold them (a list, each item possibly several statements joined by
 * ";") into single statements. A ";" inside quotes, a dollar-quoted body (`DO $$ … $$`) or a
 * comment does not split. Splitting happens before any value is substituted, so no value can
 * add a statement.
 */
export function splitStatements(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    let start = 0;
    let i = 0;
    while (i < item.length) {
      const c = item[i]!;
      if (c === "'" || c === '"' || c === '`') {
        i = item.indexOf(c, i + 1);
        if (i === -1) i = item.length;
        i++;
      } else if (c === '$') {
        const tag = /^\$[A-Za-z_]*\$/.exec(item.slice(i));
        if (tag) {
          const end = item.indexOf(tag[0], i + tag[0].length);
          i = end === -1 ? item.length : end + tag[0].length;
        } else {
          i++;
        }
      } else if (c === '-' && item[i + 1] === '-') {
        const nl = item.indexOf('\n', i);
        i = nl === -1 ? item.length : nl + 1;
      } else if (c === ';') {
        out.push(item.slice(start, i));
        start = ++i;
      } else {
        i++;
      }
    }
    out.push(item.slice(start));
  }
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** What a statement's placeholders are replaced with. */
export interface StatementValues {
  readonly name?: string;
  readonly username?: string;
  readonly password?: string;
  readonly expiration?: string;
}

const SAFE_NAME = /^[A-Za-z0-9_.\-@]+$/;
/** Printable ASCII without quotes, backslash or backtick: nothing that can close a literal. */
const SAFE_PASSWORD = /^[!#-&(-[\]-_a-~]+$/;

/**
 * Values go into statements as they are, so each must be unable to leave the literal or
 * identifier it stands in: names from a safe alphabet, passwords without quotes or backslashes.
 * Generated values always pass; an operator's password policy or username template that
 * produces anything else is refused here, before any statement runs.
 */
export function checkStatementValues(values: StatementValues): void {
  for (const key of ['name', 'username'] as const) {
    const v = values[key];
    if (v !== undefined && !SAFE_NAME.test(v)) throw badRequest(`the generated ${key} holds characters that are not allowed in database statements (letters, digits, "_", ".", "-", "@")`);
  }
  if (values.password !== undefined && !SAFE_PASSWORD.test(values.password)) {
    throw badRequest('the generated password holds characters that are not allowed in database statements (quotes, backslashes, spaces); use a password policy without them');
  }
}

/** Replace {{name}}, {{username}}, {{password}} and {{expiration}} (spaces inside the braces allowed). */
export function renderStatement(statement: string, values: StatementValues): string {
  return statement.replace(/\{\{\s*(name|username|password|expiration)\s*\}\}/g, (m, key: keyof StatementValues) => values[key] ?? m);
}

/** Vault's expiration format in statements: "2006-01-02 15:04:05+0000", in UTC. */
export function formatExpiration(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}
