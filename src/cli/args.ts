/**
 * A small, strict command-line parser: `--flag value`, `--flag=value`, boolean `--flag`,
 * repeatable flags, positionals. Unknown flags are errors (exit code 2).
 * @module
 */
import { ConfigError } from '../errors.js';

/** Declaration of the flags a command accepts. */
export interface FlagSpec {
  /** Flags taking a value. */
  values?: readonly string[];
  /** Flags that may repeat (values collected in order). */
  repeatable?: readonly string[];
  /** Boolean flags. */
  booleans?: readonly string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  positionals: string[];
  values: Map<string, string>;
  lists: Map<string, string[]>;
  booleans: Set<string>;
}

/** Parses `argv` against `spec`; throws {@link ConfigError} naming the bad flag. */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), lists: new Map(), booleans: new Set() };
  const values = new Set(spec.values ?? []);
  const rep = new Set(spec.repeatable ?? []);
  const bools = new Set(spec.booleans ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (bools.has(name)) {
      if (eq > 0) throw new ConfigError(`--${name} takes no value`);
      out.booleans.add(name);
      continue;
    }
    if (!values.has(name) && !rep.has(name)) throw new ConfigError(`unknown option --${name}`);
    let v: string | undefined = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new ConfigError(`--${name} needs a value`);
    v = String(v);
    if (rep.has(name)) out.lists.set(name, [...(out.lists.get(name) ?? []), v]);
    else {
      if (out.values.has(name)) throw new ConfigError(`--${name} given twice`);
      out.values.set(name, v);
    }
  }
  return out;
}
