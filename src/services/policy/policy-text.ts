/**
 * The syntax layer of a connection-policy document (SPEC POL-2): text in YAML or JSON to a
 * plain value, with the size limit and syntax errors that name a line and column. Duplicate
 * mapping keys are errors in both formats (a repeated key would otherwise silently override
 * the first, e.g. a second `default:`). Checking the value's shape is `validatePolicy`'s job.
 * @module
 */
import { parseDocument } from 'yaml';
import { PolicyError, type PolicyProblem } from '../../errors.js';

/** Largest accepted document, in UTF-8 bytes (1 MiB). */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Deepest nesting accepted in a JSON document (a valid policy needs 5 levels). */
const MAX_JSON_DEPTH = 64;

/** YAML alias expansions allowed (the `yaml` package's default; guards "billion laughs"). */
const MAX_YAML_ALIASES = 100;

/** Most syntax problems reported at once. */
const MAX_SYNTAX_PROBLEMS = 100;

/**
 * The format of a document when none is given: JSON when its first significant character
 * opens an object or array, YAML otherwise. (A YAML document written in flow style from its
 * first character should be given `format: 'yaml'` explicitly.)
 */
export function detectPolicyFormat(text: string): 'yaml' | 'json' {
  const m = /^[\uFEFF\s]*(\S)/.exec(text);
  return m && (m[1] === '{' || m[1] === '[') ? 'json' : 'yaml';
}

/**
 * Parses the text of a policy document into a plain value. Throws {@link PolicyError} (every
 * problem with path `''`) for a document over {@link MAX_POLICY_BYTES}, or a syntax error.
 */
export function parsePolicyText(text: string, format: 'yaml' | 'json' = detectPolicyFormat(text)): unknown {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_POLICY_BYTES) {
    throw new PolicyError([{ path: '', message: `document is ${size} bytes, over the limit of ${MAX_POLICY_BYTES}` }]);
  }
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return format === 'json' ? parseJson(body) : parseYaml(body);
}

function parseYaml(text: string): unknown {
  // YAML 1.2 core schema: `yes`/`no`/`on` stay strings, so `default: no` is an error below
  // rather than a boolean. Unresolved tags are warnings in `yaml`; here they are errors.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  const problems: PolicyProblem[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    if (problems.length >= MAX_SYNTAX_PROBLEMS) break;
    // `prettyErrors` messages read "<what> at line L, column C:" followed by a context excerpt.
    const first = e.message.split('\n', 1)[0]!.replace(/:$/, '');
    problems.push({ path: '', message: `YAML: ${first}` });
  }
  if (problems.length > 0) throw new PolicyError(problems);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new PolicyError([{ path: '', message: `YAML: ${err instanceof Error ? err.message : String(err)}` }]);
  }
}

/**
 * A strict JSON (RFC 8259) reader. `JSON.parse` on Node 20 does not always say where an
 * error is and silently keeps the last of duplicate keys; this one reports the line and
 * column of the first syntax error, and every duplicate key.
 */
function parseJson(text: string): unknown {
  const p = new JsonReader(text);
  let value: unknown;
  try {
    p.ws();
    value = p.value(0);
    p.ws();
    if (p.pos < text.length) p.fail('unexpected content after the JSON value');
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new PolicyError([{ path: '', message: `JSON: ${err.message}` }]);
    throw err;
  }
  if (p.duplicates.length > 0) throw new PolicyError(p.duplicates);
  return value;
}

class JsonSyntaxError extends Error {}

// RFC 8259 §7: control characters (U+0000 to U+001F) may appear in a string only escaped.
// eslint-disable-next-line no-control-regex
const JSON_STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"/y;
const JSON_NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const JSON_WS_RE = /[ \t\r\n]*/y;

class JsonReader {
  pos = 0;
  readonly duplicates: PolicyProblem[] = [];

  constructor(private readonly text: string) {}

  /** Where `pos` is, as "line L, column C" (1-based; columns count UTF-16 units). */
  where(pos: number): string {
    let line = 1;
    let start = 0;
    for (let i = this.text.indexOf('\n'); i >= 0 && i < pos; i = this.text.indexOf('\n', i + 1)) {
      line++;
      start = i + 1;
    }
    return `line ${line}, column ${pos - start + 1}`;
  }

  fail(what: string, pos = this.pos): never {
    throw new JsonSyntaxError(`${what} at ${this.where(pos)}`);
  }

  ws(): void {
    JSON_WS_RE.lastIndex = this.pos;
    JSON_WS_RE.exec(this.text);
    this.pos = JSON_WS_RE.lastIndex;
  }

  value(depth: number): unknown {
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    JSON_NUMBER_RE.lastIndex = this.pos;
    const m = JSON_NUMBER_RE.exec(this.text);
    if (m) {
      this.pos = JSON_NUMBER_RE.lastIndex;
      return Number(m[0]);
    }
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  string(): string {
    JSON_STRING_RE.lastIndex = this.pos;
    const m = JSON_STRING_RE.exec(this.text);
    if (!m) this.fail('unterminated string or invalid escape or control character in string');
    this.pos = JSON_STRING_RE.lastIndex;
    return JSON.parse(m[0]) as string;
  }

  object(depth: number): Record<string, unknown> {
    this.pos++; // {
    const entries: [string, unknown][] = [];
    const seen = new Set<string>();
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return {};
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a double-quoted property name');
      const keyPos = this.pos;
      const key = this.string();
      if (seen.has(key) && this.duplicates.length < MAX_SYNTAX_PROBLEMS) this.duplicates.push({ path: '', message: `JSON: duplicate key ${JSON.stringify(key)} at ${this.where(keyPos)}` });
      seen.add(key);
      this.ws();
      if (this.text[this.pos] !== ':') this.fail("expected ':' after property name");
      this.pos++;
      this.ws();
      entries.push([key, this.value(depth)]);
      this.ws();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        // fromEntries defines own properties, so a "__proto__" key stays a plain key.
        return Object.fromEntries(entries);
      }
      if (c !== ',') this.fail("expected ',' or '}' after property value");
      this.pos++;
      this.ws();
    }
  }

  array(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c !== ',') this.fail("expected ',' or ']' after array element");
      this.pos++;
      this.ws();
    }
  }
}
