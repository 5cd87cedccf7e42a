/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39, §25.1):
 * the value shape of From, To, Contact, Route, Record-Route, Path and the like.
 * @module
 */
import { SipParseError } from '../errors.js';
import { formatParams, isWsp, parseParams, readQuoted, type Params } from './lexer.js';
import { formatUri, parseUri, type Uri } from './uri.js';

/** A parsed name-addr or addr-spec with its header parameters. */
export interface NameAddr {
  /** Display name, unquoted, or `undefined`. */
  displayName: string | undefined;
  uri: Uri;
  /** Header parameters (e.g. `tag`, `expires`, `q`, `+sip.instance`), names lower-cased. */
  params: Params;
  /** True when the URI was written inside `<>` (always so when re-serialized with params in the URI). */
  angle: boolean;
}

const DISPLAY_TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~ \t]+$/;

/** Parses one name-addr or addr-spec (one element of a comma list). */
export function parseNameAddr(s: string, what: string): NameAddr {
  let i = 0;
  const n = s.length;
  while (i < n && isWsp(s.charCodeAt(i))) i++;
  let displayName: string | undefined;
  let uriText: string;
  let rest: string;
  let angle = false;
  if (s[i] === '"') {
    const q = readQuoted(s, i, what);
    displayName = q.text;
    i = q.end;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (s[i] !== '<') throw new SipParseError(`Missing <URI> after display name in ${what}`);
  }
  const lt = s.indexOf('<', i);
  if (lt >= 0 && (displayName !== undefined || s[i] === '<' || isDisplayTokens(s.slice(i, lt)))) {
    if (displayName === undefined) {
      const dn = s.slice(i, lt).trim();
      if (dn.length > 0) displayName = dn;
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new SipParseError(`Unterminated <URI> in ${what}`);
    uriText = s.slice(lt + 1, gt);
    rest = s.slice(gt + 1);
    angle = true;
  } else {
    if (lt >= 0) throw new SipParseError(`Malformed name-addr in ${what}`);
    // RFC 3261 §20: without angle brackets, all ;parameters are header parameters, and the
    // addr-spec must not contain comma, question mark or semicolon.
    let j = i;
    while (j < n && s[j] !== ';' && !isWsp(s.charCodeAt(j))) j++;
    uriText = s.slice(i, j);
    rest = s.slice(j);
    if (uriText.includes('?') || uriText.includes(',')) throw new SipParseError(`addr-spec with reserved characters in ${what} must use <>`);
  }
  if (uriText.length === 0) throw new SipParseError(`Empty URI in ${what}`);
  const uri = parseUri(uriText.trim() === uriText ? uriText : fail(what));
  const params = parseParams(rest, what);
  return { displayName, uri, params, angle };
}

function fail(what: string): never {
  throw new SipParseError(`Whitespace inside URI in ${what}`);
}

function isDisplayTokens(s: string): boolean {
  const t = s.trim();
  return t.length === 0 || DISPLAY_TOKEN_RE.test(t);
}

/** Serializes a name-addr; always uses `<>` so URI and header parameters stay distinct. */
export function formatNameAddr(na: NameAddr): string {
  let s = '';
  if (na.displayName !== undefined) s += '"' + na.displayName.replace(/(["\\])/g, '\\$1') + '" ';
  s += '<' + formatUri(na.uri) + '>';
  s += formatParams(na.params);
  return s;
}
