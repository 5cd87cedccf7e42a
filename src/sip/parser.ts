/**
 * Parsing of one SIP message from bytes (RFC 3261 §7, §25): the start line, header fields
 * with line folding, and the body framed by Content-Length (RFC 3261 §18.3: on datagrams,
 * bytes beyond Content-Length are discarded and a Content-Length larger than the datagram is
 * an error). Only the framing is checked here; header values are parsed lazily by the model
 * and checked as a whole by {@link validateMessage}.
 * @module
 */
import { MessageTooLargeError, SipParseError } from '../errors.js';
import { headerKey } from './header-names.js';
import { isToken } from './lexer.js';
import { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
import { SipRequest, SipResponse, type HeaderField, type SipMessage } from './message.js';

const REQUEST_LINE_RE = /^([A-Za-z0-9\-.!%*_+`'~]+) ([^ \t\r\n]+) ([Ss][Ii][Pp]\/[0-9]+\.[0-9]+)$/;
const STATUS_LINE_RE = /^([Ss][Ii][Pp]\/[0-9]+\.[0-9]+) ([0-9]{3})(?: (.*))?$/;

/** Index of the CRLFCRLF (or LFLF) ending the head, and the body start; -1 if none. */
export function findHeadEnd(buf: Buffer, from = 0): { headEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  if (crlf >= 0) return { headEnd: crlf, bodyStart: crlf + 4 };
  const lf = buf.indexOf('\n\n', from, 'latin1');
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

/**
 * Parses the head of a message (start line and header fields) from a wire string.
 * @internal
 */
export function parseHead(head: string, limits: MessageLimits): { start: string; headers: HeaderField[] } {
  const lines = head.split(/\r?\n/);
  const start = lines[0]!;
  const headers: HeaderField[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous field.
      const prev = headers.pop();
      if (!prev) throw new SipParseError('Continuation line before any header');
      const value = (prev.value + ' ' + line.trim()).trim();
      headers.push({ name: prev.name, key: prev.key, value, raw: prev.raw + '\r\n' + line });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('Malformed header line');
    const name = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!isToken(name)) throw new SipParseError('Malformed header name');
    if (headers.length >= limits.maxHeaders) throw new SipParseError('Too many header fields');
    headers.push({ name, key: headerKey(name), value: line.slice(colon + 1).trim(), raw: line });
  }
  return { start, headers };
}

/** The Content-Length value (RFC 3261 §20.14); several differing values are an error (RFC 4475 `mcl01`). */
export function contentLengthOf(headers: readonly HeaderField[]): number | undefined {
  let cl: number | undefined;
  for (const h of headers) {
    if (h.key !== 'content-length') continue;
    if (!/^[0-9]{1,10}$/.test(h.value)) throw new SipParseError('Malformed Content-Length');
    const v = Number(h.value);
    if (cl !== undefined && cl !== v) throw new SipParseError('Multiple Content-Length values');
    cl = v;
  }
  return cl;
}

/** Builds the message object from its start line, headers and body. */
export function buildMessage(start: string, headers: HeaderField[], body: Buffer): SipMessage {
  if (start.length === 0) throw new SipParseError('Empty start line');
  const c = start.charCodeAt(0);
  if (c === 0x20 || c === 0x09) throw new SipParseError('Leading whitespace in start line');
  if (/^[Ss][Ii][Pp]\//.test(start)) {
    const m = STATUS_LINE_RE.exec(start);
    if (!m) throw new SipParseError('Malformed Status-Line');
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw new SipParseError('Status code out of range');
    return new SipResponse(status, m[3] ?? '', headers, body, m[1]!.toUpperCase());
  }
  const m = REQUEST_LINE_RE.exec(start);
  if (!m) throw new SipParseError('Malformed Request-Line');
  if (m[2]!.startsWith('<')) throw new SipParseError('Request-URI in angle brackets');
  return new SipRequest(m[1]!, m[2]!, headers, body, m[3]!.toUpperCase());
}

/**
 * Parses one datagram into a message. Throws {@link SipParseError} (→ `400`) or
 * {@link MessageTooLargeError} (→ `513`).
 */
export function parseDatagram(buf: Buffer, limits: MessageLimits = DEFAULT_LIMITS): SipMessage {
  if (buf.length > limits.maxMessageSize) throw new MessageTooLargeError(buf.length, limits.maxMessageSize);
  const end = findHeadEnd(buf);
  let headEnd: number;
  let bodyStart: number;
  if (end) ({ headEnd, bodyStart } = end);
  else {
    // Tolerate a datagram ending right after the last header's CRLF (no empty line).
    headEnd = buf.length;
    while (headEnd > 0 && (buf[headEnd - 1] === 0x0a || buf[headEnd - 1] === 0x0d)) headEnd--;
    bodyStart = buf.length;
  }
  if (headEnd > limits.maxHeadSize) throw new MessageTooLargeError(headEnd, limits.maxHeadSize);
  const { start, headers } = parseHead(buf.toString('latin1', 0, headEnd), limits);
  const cl = contentLengthOf(headers);
  const available = buf.length - bodyStart;
  let body: Buffer;
  if (cl === undefined) body = buf.subarray(bodyStart);
  else if (cl > available) throw new SipParseError('Content-Length larger than message body');
  else body = buf.subarray(bodyStart, bodyStart + cl);
  return buildMessage(start, headers, body);
}
