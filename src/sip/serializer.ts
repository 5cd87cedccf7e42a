/**
 * Serialization of messages to bytes (RFC 3261 §7). Header fields received from the wire
 * are written back exactly as they arrived; Content-Length always states the body size.
 * @module
 */
import type { SipMessage, SipRequest, SipResponse } from './message.js';

/** The start line of a message. */
export function startLine(m: SipMessage): string {
  return m.isRequest
    ? `${(m as SipRequest).method} ${(m as SipRequest).uri} ${m.version}`
    : `${m.version} ${(m as SipResponse).status} ${(m as SipResponse).reason}`;
}

/** The head (start line, headers, empty line) as a wire string. */
export function serializeHead(m: SipMessage): string {
  let s = startLine(m) + '\r\n';
  const len = m.body.length;
  let sawLength = false;
  for (const h of m.headers) {
    if (h.key === 'content-length') {
      if (sawLength) continue; // duplicates of an equal value collapse into one
      sawLength = true;
      if (h.raw !== undefined && h.value === String(len)) s += h.raw + '\r\n';
      else s += `${h.name}: ${len}\r\n`;
      continue;
    }
    s += (h.raw ?? `${h.name}: ${h.value}`) + '\r\n';
  }
  if (!sawLength) s += `Content-Length: ${len}\r\n`;
  return s + '\r\n';
}

/** Serializes the whole message. */
export function serialize(m: SipMessage): Buffer {
  const head = serializeHead(m);
  if (m.body.length === 0) return Buffer.from(head, 'latin1');
  const out = Buffer.allocUnsafe(Buffer.byteLength(head, 'latin1') + m.body.length);
  const n = out.write(head, 0, 'latin1');
  m.body.copy(out, n);
  return out;
}
