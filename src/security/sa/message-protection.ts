/**
 * Sealing and opening SIP messages under an SA (SPEC SA-4; docs/protocol.md §3.2–3.3).
 *
 * - `whole`: the serialized message is the plaintext of one binary record (record.ts).
 * - partial: the message stays SIP. Headers a NAT or load balancer must read stay in clear
 *   (range.ts); the others and the body become the sealed body
 *   (`Content-Type: application/sipher-sealed`), and a `Sipher-SA: id=…;gen=…;seq=…` header
 *   names the SA. Associated data = the 24-byte record header (as for a whole record) ‖ start
 *   line ‖ CRLF ‖ Call-ID ‖ CRLF ‖ CSeq: the parts that must not change in transit. Via,
 *   Contact, Route, Record-Route and Max-Forwards are left unbound on purpose: SIP-aware
 *   NATs rewrite them (seed 000 FIG. 12: partial encryption exists for the SIP-NAT).
 * @module
 */
import type { RecordFault } from '../../errors.js';
import { aeadOpen, aeadSeal, AEAD_TAG_LENGTH } from '../../crypto/aead-rules.js';
import type { SipMessage } from '../../sip/message.js';
import { parseDatagram } from '../../sip/parser.js';
import { RECORD_HEADER_LENGTH } from '../../sip/record-frame.js';
import type { MessageLimits } from '../../sip/limits.js';
import { serialize, startLine } from '../../sip/serializer.js';
import type { SecurityAssociation } from './association.js';
import type { Generation } from './generation.js';
import { isSealedHeader, type Range } from './range.js';
import { allocRecord, MAX_SEALED, readRecordHeader, recordNonce, type RecordHeader } from './record.js';

/** Content type of a partial range's sealed body. */
export const SEALED_CONTENT_TYPE = 'application/sipher-sealed';
/** Header naming the SA of a partial-range message (lower-case key). */
export const SA_HEADER = 'sipher-sa';

const CRLF = '\r\n';
const EMPTY = Buffer.alloc(0);

/** Seals `plaintext` as one whole record under the SA's current generation. */
export function sealRecord(sa: SecurityAssociation, plaintext: Buffer): Buffer {
  const g = sa.current;
  const seq = g.sendSeq++;
  const out = allocRecord(sa.id, g.number, seq, plaintext.length + AEAD_TAG_LENGTH);
  const sealed = aeadSeal(g.rule, g.sendKey, recordNonce(seq), out.subarray(0, RECORD_HEADER_LENGTH), plaintext);
  sealed.copy(out, RECORD_HEADER_LENGTH);
  return out;
}

/**
 * Opens a whole record of `sa` whose header was already read. The replay window is checked
 * before and updated only after the AEAD verified. Returns the plaintext or the fault.
 */
export function openRecord(sa: SecurityAssociation, h: RecordHeader): { plaintext: Buffer; generation: Generation } | RecordFault {
  const g = sa.receiving(h.generation);
  if (typeof g === 'string') return g;
  if (!g.window.check(h.seq)) return 'replay';
  const plaintext = aeadOpen(g.rule, g.receiveKey, recordNonce(h.seq), h.aad, h.sealed);
  if (!plaintext) return 'decrypt';
  g.window.accept(h.seq);
  return { plaintext, generation: g };
}

/** Seals `message` under the SA's current generation and `range` (whole or partial). */
export function sealMessage(sa: SecurityAssociation, message: SipMessage, range: Range): Buffer {
  if (range.kind === 'whole') return sealRecord(sa, serialize(message));
  let clear = startLine(message) + CRLF;
  let inner = '';
  for (const h of message.headers) {
    if (h.key === 'content-length' || h.key === SA_HEADER) continue;
    const line = (h.raw ?? `${h.name}: ${h.value}`) + CRLF;
    if (isSealedHeader(range, h.key)) inner += line;
    else clear += line;
  }
  const innerHead = Buffer.from(inner + CRLF, 'latin1');
  const plaintext = message.body.length === 0 ? innerHead : Buffer.concat([innerHead, message.body]);
  const g = sa.current;
  const seq = g.sendSeq++;
  const sealedLength = plaintext.length + AEAD_TAG_LENGTH;
  if (sealedLength > MAX_SEALED) throw new RangeError('message too large to seal');
  const header = allocRecord(sa.id, g.number, seq, 0).subarray(0, RECORD_HEADER_LENGTH);
  header.writeUInt16BE(sealedLength, RECORD_HEADER_LENGTH - 2);
  const aad = partialAad(header, message);
  const sealed = aeadSeal(g.rule, g.sendKey, recordNonce(seq), aad, plaintext);
  clear += `Sipher-SA: id=${sa.idHex};gen=${g.number};seq=${seq}${CRLF}`;
  clear += `Content-Type: ${SEALED_CONTENT_TYPE}${CRLF}Content-Length: ${sealed.length}${CRLF}${CRLF}`;
  const head = Buffer.from(clear, 'latin1');
  return Buffer.concat([head, sealed], head.length + sealed.length);
}

/** The parameters of a `Sipher-SA` header, or `undefined` if malformed. */
export function parseSaHeader(value: string): { saId: string; generation: number; seq: number } | undefined {
  const m = /^\s*id=([0-9a-f]{16})\s*;\s*gen=([0-9]{1,10})\s*;\s*seq=([0-9]{1,16})\s*$/.exec(value);
  if (!m) return undefined;
  const generation = Number(m[2]);
  const seq = Number(m[3]);
  if (generation > 0xffffffff || !Number.isSafeInteger(seq)) return undefined;
  return { saId: m[1]!, generation, seq };
}

/**
 * Opens a partial-range message of `sa` (its `Sipher-SA` header already parsed): verifies
 * and decrypts the body and returns the message with the sealed headers and body restored.
 */
export function openPartial(
  sa: SecurityAssociation,
  message: SipMessage,
  p: { generation: number; seq: number },
  limits: MessageLimits,
): { message: SipMessage; generation: Generation } | RecordFault {
  if (message.body.length < AEAD_TAG_LENGTH || message.body.length > MAX_SEALED) return 'malformed';
  if ((message.get('content-type') ?? '').toLowerCase() !== SEALED_CONTENT_TYPE) return 'malformed';
  const g = sa.receiving(p.generation);
  if (typeof g === 'string') return g;
  if (!g.window.check(p.seq)) return 'replay';
  const header = allocRecord(sa.id, p.generation, p.seq, 0).subarray(0, RECORD_HEADER_LENGTH);
  header.writeUInt16BE(message.body.length, RECORD_HEADER_LENGTH - 2);
  const plaintext = aeadOpen(g.rule, g.receiveKey, recordNonce(p.seq), partialAad(header, message), message.body);
  if (!plaintext) return 'decrypt';
  const split = innerSplit(plaintext);
  if (split < 0) return 'malformed';
  let head = startLine(message) + CRLF;
  // The range this generation seals with (a message in flight across a range change keeps its own).
  const range = g.range ?? sa.range;
  for (const h of message.headers) {
    if (h.key === 'content-length' || h.key === SA_HEADER || h.key === 'content-type') continue;
    // A header the range seals must not also arrive in clear: it was injected in transit
    // (SPEC SA-4: only the documented parts may travel in clear).
    if (range.kind === 'partial' && isSealedHeader(range, h.key)) return 'malformed';
    head += (h.raw ?? `${h.name}: ${h.value}`) + CRLF;
  }
  head += plaintext.toString('latin1', 0, split);
  const body = plaintext.subarray(split + 2);
  head += `Content-Length: ${body.length}${CRLF}${CRLF}`;
  let restored: SipMessage;
  try {
    restored = parseDatagram(Buffer.concat([Buffer.from(head, 'latin1'), body.length > 0 ? body : EMPTY]), limits);
  } catch {
    return 'malformed';
  }
  g.window.accept(p.seq);
  return { message: restored, generation: g };
}

/** Reads a whole record's header (the cheap checks); `undefined` when malformed. */
export { readRecordHeader };

function partialAad(header: Buffer, m: SipMessage): Buffer {
  const bound = `${startLine(m)}${CRLF}${m.get('call-id') ?? ''}${CRLF}${m.get('cseq') ?? ''}`;
  const text = Buffer.from(bound, 'latin1');
  return Buffer.concat([header, text], header.length + text.length);
}

/** Index of the CRLF that ends the sealed header lines (the plaintext starts with them). */
function innerSplit(p: Buffer): number {
  if (p.length >= 2 && p[0] === 0x0d && p[1] === 0x0a) return 0;
  const i = p.indexOf('\r\n\r\n', 0, 'latin1');
  return i < 0 ? -1 : i + 2;
}
