/**
 * Small lexical helpers of the RFC 3261 §25.1 grammar shared by the header codecs:
 * splitting comma lists and parameters while honouring quoted strings and `<...>`.
 * All functions work on the wire string (one char per byte, latin1).
 * @module
 */
import { SipParseError } from '../errors.js';

/** RFC 3261 §25.1 `token` characters. */
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** True if `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/** True for SP and HTAB. */
export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Splits a header value on top-level commas (not inside quotes or angle brackets), trimming
 * each element. Throws on an unterminated quoted string or `<`.
 */
export function splitList(value: string, what = 'header'): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (inQuote) throw new SipParseError(`Unterminated quoted string in ${what}`);
  if (inAngle) throw new SipParseError(`Unterminated <> in ${what}`);
  const last = value.slice(start).trim();
  if (last.length > 0 || out.length > 0) out.push(last);
  for (const v of out) if (v.length === 0) throw new SipParseError(`Empty element in ${what}`);
  return out;
}

/** Ordered parameters: lower-case name → value (`null` for a flag parameter). */
export type Params = Map<string, string | null>;

/**
 * Parses `;name=value;flag` parameters (generic-param, RFC 3261 §25.1). `s` starts at the
 * first `;` or is empty. Values keep their quotes removed and quoted-pairs unescaped;
 * `rawValues` (if given) receives values exactly as written (for byte-exact re-serialization).
 */
export function parseParams(s: string, what: string): Params {
  const params: Params = new Map();
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (i >= n) break;
    if (s[i] !== ';') throw new SipParseError(`Bad parameter syntax in ${what}`);
    i++;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    let j = i;
    while (j < n && s[j] !== '=' && s[j] !== ';' && !isWsp(s.charCodeAt(j))) j++;
    const name = s.slice(i, j).toLowerCase();
    if (name.length === 0 || !isParamName(name)) throw new SipParseError(`Bad parameter name in ${what}`);
    i = j;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (i < n && s[i] === '=') {
      i++;
      while (i < n && isWsp(s.charCodeAt(i))) i++;
      if (s[i] === '"') {
        const { text, end } = readQuoted(s, i, what);
        params.set(name, text);
        i = end;
      } else {
        j = i;
        while (j < n && s[j] !== ';' && !isWsp(s.charCodeAt(j))) j++;
        const v = s.slice(i, j);
        if (v.length === 0) throw new SipParseError(`Empty parameter value in ${what}`);
        params.set(name, v);
        i = j;
      }
    } else {
      params.set(name, null);
    }
  }
  return params;
}

function isParamName(name: string): boolean {
  // token, plus the characters allowed in uri-parameter names (RFC 3261 §25.1 paramchar).
  return /^[A-Za-z0-9\-.!%*_+`'~[\]/:&$]+$/.test(name);
}

/** Reads a quoted-string starting at `s[start] === '"'`; returns the unescaped text and the index after the closing quote. */
export function readQuoted(s: string, start: number, what: string): { text: string; end: number } {
  let text = '';
  let i = start + 1;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      if (i >= s.length) break;
      text += s[i];
    } else if (c === '"') {
      return { text, end: i + 1 };
    } else text += c;
  }
  throw new SipParseError(`Unterminated quoted string in ${what}`);
}

/** Serializes parameters back to `;a=b;c` form, quoting values that are not tokens (or hosts). */
export function formatParams(params: Params): string {
  let s = '';
  for (const [k, v] of params) {
    if (v === null) s += ';' + k;
    else if (/^[A-Za-z0-9\-.!%*_+`'~[\]:]*$/.test(v) && v.length > 0) s += ';' + k + '=' + v;
    else s += ';' + k + '="' + v.replace(/(["\\])/g, '\\$1') + '"';
  }
  return s;
}

/** Unescapes `%HH` sequences (RFC 3261 §19.1.2); leaves malformed escapes as an error. */
export function unescapePercent(s: string, what: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw new SipParseError(`Bad escape in ${what}`);
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else out += c;
  }
  return out;
}
