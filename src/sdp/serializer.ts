/**
 * Serialization of a {@link SessionDescription} (RFC 8866 §5): lines in the §5 order, each
 * ended by CRLF. A description parsed from canonical text (CRLF endings, single spaces,
 * numbers without leading zeros) serializes back to the same bytes. Values containing CR,
 * LF or NUL are refused so that no caller can inject lines.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { formatConnection, formatMediaLine, formatOrigin } from './grammar.js';
import type { Attribute, Bandwidth, SessionDescription } from './model.js';

function line(out: string[], type: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new InvalidArgumentError(`SDP ${type}= value contains CR, LF or NUL`);
  out.push(`${type}=${value}\r\n`);
}

function attributes(out: string[], list: readonly Attribute[]): void {
  for (const a of list) line(out, 'a', a.value === undefined ? a.name : `${a.name}:${a.value}`);
}

function bandwidths(out: string[], list: readonly Bandwidth[]): void {
  for (const b of list) line(out, 'b', `${b.type}:${b.value}`);
}

/** Serializes a session description to text with CRLF line endings. */
export function formatSdp(sdp: SessionDescription): string {
  const out: string[] = [];
  line(out, 'v', String(sdp.version));
  line(out, 'o', formatOrigin(sdp.origin));
  line(out, 's', sdp.sessionName);
  if (sdp.information !== undefined) line(out, 'i', sdp.information);
  if (sdp.uri !== undefined) line(out, 'u', sdp.uri);
  for (const e of sdp.emails) line(out, 'e', e);
  for (const p of sdp.phones) line(out, 'p', p);
  if (sdp.connection) line(out, 'c', formatConnection(sdp.connection));
  bandwidths(out, sdp.bandwidths);
  for (const t of sdp.times) {
    line(out, 't', `${t.start} ${t.stop}`);
    for (const r of t.repeats) line(out, 'r', r);
    if (t.zone !== undefined) line(out, 'z', t.zone);
  }
  if (sdp.key !== undefined) line(out, 'k', sdp.key);
  attributes(out, sdp.attributes);
  for (const m of sdp.media) {
    line(out, 'm', formatMediaLine(m));
    if (m.information !== undefined) line(out, 'i', m.information);
    for (const c of m.connections) line(out, 'c', formatConnection(c));
    bandwidths(out, m.bandwidths);
    if (m.key !== undefined) line(out, 'k', m.key);
    attributes(out, m.attributes);
  }
  return out.join('');
}
