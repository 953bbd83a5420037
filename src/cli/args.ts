/**
 * cli/args.ts: the one command-line parser every `lvsim` subcommand uses. A command declares
 * its options in a table (name, value, how to read the value) and how many files it takes;
 * anything else (an unknown option, a stray file, a bad value) is a UsageError that names what
 * was found and what was expected, and the command exits 2. Options come as `--flag value` or
 * `--flag=value`, in any order; a repeated option keeps its last value, as getopt_long users
 * expect; `--` ends the options.
 */

/** A bad command line: the message names the option or argument and what was expected. */
export class UsageError extends Error {}

/** How one option reads its value (absent: a switch that takes none). */
export interface Opt<T = unknown> {
  /** The value's name in messages and usage (`FILE`, `N`); absent for a switch. */
  readonly value?: string;
  readonly parse?: (raw: string, flag: string) => T;
}

export interface CommandSpec {
  /** `run`, `compare`, ...: prefixes every message. */
  readonly name: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, Opt>>;
  /** How many positional arguments, and what one is called in messages. */
  readonly positional: { readonly min: number; readonly max: number; readonly what: string };
  /** Words after `--` are the command's own (exec: the command to run); otherwise they are positional. */
  readonly rest?: boolean;
}

export interface Parsed {
  readonly positional: string[];
  /** Parsed option values by name (switches: true). */
  readonly values: Map<string, unknown>;
  readonly rest: string[];
  readonly help: boolean;
}

const DIGITS = /^[0-9]+$/;
/** A count may be written 100000, 1e5 or 1.5e5, as long as it is a whole number. */
const COUNT = /^[0-9]+(?:\.[0-9]+)?(?:[eE]\+?[0-9]+)?$/;

/** A whole number written in decimal digits only (a seed, an index): 1e3 is refused. */
export function integer(lo: number, hi: number, hiText = String(hi)): Opt<number> {
  return {
    value: 'N',
    parse: (raw, flag) => {
      if (!DIGITS.test(raw) || Number(raw) < lo || Number(raw) > hi) throw new UsageError(`${flag} must be an integer from ${lo} to ${hiText} in decimal digits, got '${raw}'`);
      return Number(raw);
    },
  };
}

/** A number of things (connections): digits or exponent notation (1e6), whole, in [lo, hi]. */
export function count(lo: number, hi: number, hiText = String(hi)): Opt<number> {
  return { value: 'N', parse: (raw, flag) => countValue(raw, flag, lo, hi, hiText) };
}

export function countValue(raw: string, flag: string, lo: number, hi: number, hiText = String(hi)): number {
  const v = COUNT.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`${flag} must be a whole number from ${lo} to ${hiText} (such as 100000 or 1e5), got '${raw}'`);
  return v;
}

/** A seed: the random streams' 32-bit starting state. */
export const SEED = integer(0, 2 ** 32 - 1, '4294967295');

/** One of a fixed set of words. */
export function oneOf<T extends string>(...choices: T[]): Opt<T> {
  return {
    value: choices.join('|'),
    parse: (raw, flag) => {
      if (!(choices as string[]).includes(raw)) throw new UsageError(`${flag} must be ${choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`}, got '${raw}'`);
      return raw as T;
    },
  };
}

/** Any non-empty text (a file name, a host name). */
export function text(value: string): Opt<string> {
  return {
    value,
    parse: (raw, flag) => {
      if (raw === '') throw new UsageError(`${flag} needs ${value}, got nothing`);
      return raw;
    },
  };
}

export const SWITCH: Opt<true> = {};

/** Parse `argv` against a command's table; throws UsageError. `--help`/`-h` is every command's. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const values = new Map<string, unknown>();
  let rest: string[] = [];
  let help = false;
  const known = Object.keys(spec.options).map(k => `--${k}`);
  const expected = known.length ? `${spec.name} takes ${known.join(', ')}` : `${spec.name} takes no options`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (spec.rest) rest = argv.slice(i + 1);
      else positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--help' || a === '-h') { help = true; continue; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const opt = spec.options[name];
      if (!opt) throw new UsageError(`unknown option '${eq > 0 ? a.slice(0, eq) : a}' (${expected})`);
      const flag = `--${name}`;
      if (!opt.value) {
        if (eq > 0) throw new UsageError(`${flag} takes no value, got '${a}'`);
        values.set(name, true);
        continue;
      }
      let raw: string | undefined;
      if (eq > 0) raw = a.slice(eq + 1);
      else {
        raw = argv[i + 1];
        if (raw === undefined || (raw.startsWith('--') && raw.length > 2)) throw new UsageError(`${flag} needs a value (${opt.value})${raw === undefined ? '' : `, got the option '${raw}'`}`);
        i++;
      }
      values.set(name, opt.parse ? opt.parse(raw, flag) : raw);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option '${a}' (${expected})`);
    positional.push(a);
  }
  if (help) return { positional, values, rest, help };
  const { min, max, what } = spec.positional;
  if (positional.length > max) {
    throw new UsageError(max === 0
      ? `unexpected argument '${positional[0]}' (no file is taken)`
      : max === 1
        ? `expected one ${what}, got '${positional[0]}' and also '${positional.slice(1).join("', '")}'`
        : `expected at most ${max} ${what}s, got ${positional.length}`);
  }
  if (positional.length < min) throw new UsageError(`missing the ${what}${min > 1 ? `s (at least ${min})` : ''}\n${spec.usage}`);
  return { positional, values, rest, help };
}

/** Typed reads of parsed values. */
export function get<T>(p: Parsed, name: string): T | undefined {
  return p.values.get(name) as T | undefined;
}
