/**
 * Flags in the Go `flag` package style the Vault CLI uses: `-name=value`, `-name value`,
 * `--name=value`, and booleans as `-name` or `-name=false`. Parsing stops at the first
 * argument that is not a flag, or after `--`.
 */
export interface FlagSpec {
  readonly name: string;
  readonly kind: 'string' | 'bool' | 'int' | 'list';
  readonly usage: string;
  readonly default?: string;
  /** Other names for the flag ("f" for "force"). */
  readonly aliases?: readonly string[];
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string[]>;
  readonly args: readonly string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map(specs.flatMap((s) => [s.name, ...(s.aliases ?? [])].map((n): [string, FlagSpec] => [n, s])));
  const flags = new Map<string, string[]>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    let value: string;
    if (eq !== -1) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      value = next;
      i++;
    }
    if (spec.kind === 'int' && !/^-?\d+$/.test(value)) throw new UsageError(`invalid value "${value}" for flag -${name}: must be an integer`);
    if (spec.kind === 'bool' && !['true', 'false', '1', '0', 't', 'f'].includes(value)) throw new UsageError(`invalid boolean value "${value}" for flag -${name}`);
    const list = flags.get(spec.name) ?? [];
    list.push(value);
    flags.set(spec.name, list);
  }
  return { flags, args: argv.slice(i) };
}

export function flagString(p: ParsedArgs, name: string, fallback = ''): string {
  const v = p.flags.get(name);
  return v ? v[v.length - 1]! : fallback;
}

export function flagBool(p: ParsedArgs, name: string): boolean {
  const v = flagString(p, name, 'false');
  return v === 'true' || v === '1' || v === 't';
}

export function flagList(p: ParsedArgs, name: string): string[] {
  return (p.flags.get(name) ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

export function flagSet(p: ParsedArgs, name: string): boolean {
  return p.flags.has(name);
}
