/**
 * Parsing of a session description (RFC 8866 §5, grammar §9). The parser enforces the line
 * order of §5 (session lines `v o s i u e p c b t r z k a`, then media sections
 * `m i c b k a`), the syntax of every structured field, the attributes Sipher interprets
 * (`attribute-rules.ts`) and the {@link SdpLimits}. Lines may end with CRLF or a bare LF.
 * Any fault is a {@link SipParseError} whose message names the line and the fault — nothing
 * else is ever thrown for bad input.
 *
 * Deliberate leniencies, each seen in RFCs or deployed stacks: an empty `s=` (RFC 3264 §10
 * prints `s=`), a missing final line ending, trailing empty lines, a TTL on a unicast IPv4
 * `c=` (RFC 4568 §4.5), and a rejected stream (port 0) without any `c=`.
 * @module
 */
import { SipParseError } from '../errors.js';
import { checkAttribute, newAttributeScope, type AttributeScope } from './attribute-rules.js';
import {
  checkKey, checkRepeat, checkZone, isNonWsString, isSdpToken, lineError, parseBandwidth, parseConnection, parseMediaLine,
  parseOrigin, parseTiming,
} from './grammar.js';
import { DEFAULT_SDP_LIMITS, type SdpLimits } from './limits.js';
import type { Attribute, MediaDescription, Origin, SessionDescription } from './model.js';

/** Session-level line types in their RFC 8866 §5 order. */
const SESSION_ORDER = 'vosiuepcbtrzka';
/** Media-level line types in their RFC 8866 §5 order. */
const MEDIA_ORDER = 'micbka';
/** Session-level types that appear at most once. */
const SESSION_ONCE = 'vosiuck';

function countLines(text: string, end: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Splits the text into lines, enforcing the size, line-count and line-length limits. */
function splitLines(text: string, limits: SdpLimits): string[] {
  const lines = text.split('\n');
  // A final line ending, and any trailing empty lines, end the description.
  while (lines.length > 0 && (lines[lines.length - 1] === '' || lines[lines.length - 1] === '\r')) lines.pop();
  if (lines.length === 0) throw lineError(1, 'empty session description');
  if (lines.length > limits.maxLines) throw lineError(limits.maxLines + 1, `more than ${limits.maxLines} lines`);
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.length > limits.maxLineLength) throw lineError(i + 1, `line too long (${l.length} > ${limits.maxLineLength} characters)`);
    if (l.includes('\r')) throw lineError(i + 1, 'CR inside a line');
    if (l.includes('\0')) throw lineError(i + 1, 'NUL byte in line');
    if (l.length === 0) throw lineError(i + 1, 'empty line');
    lines[i] = l;
  }
  return lines;
}

function parseAttributeLine(value: string): Attribute {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!isSdpToken(name)) throw new SipParseError('malformed attribute name');
  if (colon < 0) return { name };
  const v = value.slice(colon + 1);
  if (v.length === 0) throw new SipParseError(`empty value of a=${name}`);
  return { name, value: v };
}

function nonEmpty(value: string, what: string): string {
  if (value.length === 0) throw new SipParseError(`empty ${what} line`);
  return value;
}

/** Builder state while the lines are read. */
interface State {
  sdp: SessionDescription;
  media?: MediaDescription;
  scope: AttributeScope;
  last: string;
  rank: number;
  seen: Set<string>;
  limits: SdpLimits;
  /** Line number of each m= line. */
  mediaLines: number[];
}

function sessionLine(st: State, type: string, value: string): void {
  const { sdp } = st;
  const rank = SESSION_ORDER.indexOf(type);
  if (rank < 0) throw new SipParseError(`${type}= line not allowed at session level`);
  // A new t= may follow the r=/z= lines of the previous time description (RFC 8866 §5.9).
  const repeatsTime = type === 't' && (st.last === 't' || st.last === 'r' || st.last === 'z');
  if (rank < st.rank && !repeatsTime) throw new SipParseError(`${type}= line out of order (RFC 8866 §5)`);
  if (SESSION_ONCE.includes(type) && st.seen.has(type)) throw new SipParseError(`duplicate ${type}= line`);
  if ((type === 'k' || type === 'a') && sdp.times.length === 0) throw new SipParseError(`${type}= line before any t= line`);
  st.seen.add(type);
  st.rank = rank;
  switch (type) {
    case 'i': sdp.information = nonEmpty(value, 'i='); return;
    case 'u':
      if (!isNonWsString(value)) throw new SipParseError('malformed u= line');
      sdp.uri = value;
      return;
    case 'e': sdp.emails.push(nonEmpty(value, 'e=')); return;
    case 'p': sdp.phones.push(nonEmpty(value, 'p=')); return;
    case 'c': sdp.connection = parseConnection(value); return;
    case 'b': sdp.bandwidths.push(parseBandwidth(value)); return;
    case 't': sdp.times.push({ ...parseTiming(value), repeats: [] }); return;
    case 'r': {
      // RFC 8866 §5.10: r= lines belong to the t= before them.
      if (st.last !== 't' && st.last !== 'r') throw new SipParseError('r= line must follow a t= line (RFC 8866 §5.10)');
      checkRepeat(value);
      sdp.times[sdp.times.length - 1]!.repeats.push(value);
      return;
    }
    case 'z': {
      // RFC 8866 §5.11: z= only modifies the r= lines right before it.
      if (st.last !== 'r') throw new SipParseError('z= line must follow an r= line (RFC 8866 §5.11)');
      checkZone(value);
      sdp.times[sdp.times.length - 1]!.zone = value;
      return;
    }
    case 'k': checkKey(value); sdp.key = value; return;
    case 'a': {
      const a = parseAttributeLine(value);
      checkAttribute(a, st.scope);
      sdp.attributes.push(a);
      return;
    }
    default:
      throw new SipParseError(`${type}= line out of order (RFC 8866 §5)`);
  }
}

function mediaLine(st: State, type: string, value: string): void {
  const media = st.media!;
  const rank = MEDIA_ORDER.indexOf(type);
  if (rank < 0) throw new SipParseError(`${type}= line not allowed in a media description (RFC 8866 §5)`);
  if (rank < st.rank) throw new SipParseError(`${type}= line out of order in a media description (RFC 8866 §5)`);
  if ((type === 'i' || type === 'k') && st.seen.has(type)) throw new SipParseError(`duplicate ${type}= line in a media description`);
  st.seen.add(type);
  st.rank = rank;
  switch (type) {
    case 'i': media.information = nonEmpty(value, 'i='); return;
    case 'c': media.connections.push(parseConnection(value)); return;
    case 'b': media.bandwidths.push(parseBandwidth(value)); return;
    case 'k': checkKey(value); media.key = value; return;
    case 'a': {
      const a = parseAttributeLine(value);
      checkAttribute(a, st.scope);
      media.attributes.push(a);
      return;
    }
  }
}

function startMedia(st: State, value: string, line: number): void {
  if (st.sdp.times.length === 0) throw new SipParseError('m= line before any t= line');
  if (st.sdp.media.length >= st.limits.maxMedia) throw new SipParseError(`more than ${st.limits.maxMedia} media descriptions`);
  const m = parseMediaLine(value);
  const media: MediaDescription = { ...m, connections: [], bandwidths: [], attributes: [] };
  st.sdp.media.push(media);
  st.mediaLines.push(line);
  st.media = media;
  st.scope = newAttributeScope('media');
  st.seen = new Set();
  st.rank = 0;
}

/** Reads the first three lines, which are fixed: `v=0`, `o=`, `s=` (RFC 8866 §5). */
function header(lines: string[]): { origin: Origin; sessionName: string } {
  const l1 = lines[0]!;
  if (!l1.startsWith('v=')) throw lineError(1, 'missing v= line (a session description starts with v=0)');
  if (!/^v=[0-9]+$/.test(l1)) throw lineError(1, 'malformed v= line');
  if (l1 !== 'v=0') throw lineError(1, 'unsupported SDP version (only v=0)');
  const l2 = lines[1];
  if (l2 === undefined || !l2.startsWith('o=')) throw lineError(2, 'missing o= line');
  let origin: Origin;
  try {
    origin = parseOrigin(l2.slice(2));
  } catch (e) {
    if (e instanceof SipParseError) throw lineError(2, e.message);
    throw e;
  }
  const l3 = lines[2];
  if (l3 === undefined || !l3.startsWith('s=')) throw lineError(3, 'missing s= line');
  // RFC 8866 §5.3 asks for a non-empty name; RFC 3264 §10 prints "s=", so it is accepted.
  return { origin, sessionName: l3.slice(2) };
}

/**
 * Parses a session description. `input` is the text, or its bytes as UTF-8 (RFC 8866 §5:
 * SDP is UTF-8 text). Throws {@link SipParseError} for any violation of RFC 8866 or of
 * `limits`.
 */
export function parseSdp(input: string | Uint8Array, limits: SdpLimits = DEFAULT_SDP_LIMITS): SessionDescription {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    if (text.length > limits.maxBytes || Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
      throw lineError(countLines(text, limits.maxBytes), `session description larger than ${limits.maxBytes} bytes`);
    }
  } else {
    if (input.length > limits.maxBytes) {
      const head = Buffer.from(input.buffer, input.byteOffset, limits.maxBytes).toString('latin1');
      throw lineError(countLines(head, limits.maxBytes), `session description larger than ${limits.maxBytes} bytes`);
    }
    text = Buffer.from(input.buffer, input.byteOffset, input.length).toString('utf8');
  }
  const lines = splitLines(text, limits);
  const { origin, sessionName } = header(lines);
  const sdp: SessionDescription = {
    version: 0, origin, sessionName, emails: [], phones: [], bandwidths: [], times: [], attributes: [], media: [],
  };
  const st: State = { sdp, scope: newAttributeScope('session'), last: 's', rank: SESSION_ORDER.indexOf('s'), seen: new Set('vos'), limits, mediaLines: [] };
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!;
    const type = line[0]!;
    try {
      if (line[1] !== '=') throw new SipParseError('malformed line (expected <type>=<value>)');
      if (!/^[a-z]$/.test(type) || !'vosiuepcbtrzkam'.includes(type)) throw new SipParseError(`unknown line type "${type}"`);
      const value = line.slice(2);
      if (type === 'm') startMedia(st, value, i + 1);
      else if (st.media) mediaLine(st, type, value);
      else sessionLine(st, type, value);
      st.last = type;
    } catch (e) {
      if (e instanceof SipParseError) throw lineError(i + 1, e.message);
      throw e;
    }
  }
  if (sdp.times.length === 0) throw lineError(lines.length + 1, 'missing t= line');
  // RFC 8866 §5.7: a c= at session level or in every media description (a rejected stream
  // with port 0 is excused, as RFC 3264 §6 answers show).
  if (!sdp.connection) {
    const idx = sdp.media.findIndex((m) => m.connections.length === 0 && m.port !== 0);
    if (idx >= 0) throw lineError(st.mediaLines[idx]!, 'media description without a c= line and no session-level c=');
  }
  return sdp;
}
