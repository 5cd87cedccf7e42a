/**
 * RTP media attributes: `a=rtpmap`, `a=fmtp`, `a=ptime` (RFC 8866 §6.6, §6.15, §6.4), the
 * direction attributes `a=sendrecv`/`sendonly`/`recvonly`/`inactive` (RFC 8866 §6.7) with
 * the answer rule of RFC 3264 §6.1, and `a=rtcp-mux` (RFC 5761 §5.1.1). Also the static
 * payload types of RFC 3551 §6 that need no `a=rtpmap`.
 * @module
 */
import { SipParseError } from '../errors.js';
import { isSdpToken } from './grammar.js';
import type { Attribute, MediaDescription, SessionDescription } from './model.js';

/** Media direction (RFC 8866 §6.7). */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The four direction attribute names. */
export const DIRECTIONS: readonly Direction[] = Object.freeze(['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const);

/** True if `name` is a direction attribute. */
export function isDirection(name: string): name is Direction {
  return (DIRECTIONS as readonly string[]).includes(name);
}

/** The direction attribute among `attributes`, if any. */
export function directionAttribute(attributes: readonly Attribute[]): Direction | undefined {
  for (const a of attributes) if (isDirection(a.name)) return a.name;
  return undefined;
}

/**
 * The direction of a media description: its own attribute, else the session-level one, else
 * `sendrecv` (RFC 8866 §6.7: the default).
 */
export function effectiveDirection(sdp: SessionDescription, media: MediaDescription): Direction {
  return directionAttribute(media.attributes) ?? directionAttribute(sdp.attributes) ?? 'sendrecv';
}

function canSend(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function canReceive(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/** A direction from its two halves. */
export function directionFrom(send: boolean, receive: boolean): Direction {
  return send ? (receive ? 'sendrecv' : 'sendonly') : receive ? 'recvonly' : 'inactive';
}

/**
 * The answerer's direction (RFC 3264 §6.1): an offered `sendonly` is answered `recvonly` or
 * `inactive`, `recvonly` with `sendonly` or `inactive`, `inactive` with `inactive`;
 * `sendrecv` allows any. `local` is what the answerer would like.
 */
export function answerDirection(offered: Direction, local: Direction): Direction {
  return directionFrom(canSend(local) && canReceive(offered), canReceive(local) && canSend(offered));
}

/** The direction an offerer ends up with, seen from the offerer, given the answer's. */
export function offererDirection(offered: Direction, answered: Direction): Direction {
  return directionFrom(canSend(offered) && canReceive(answered), canReceive(offered) && canSend(answered));
}

/** `a=rtpmap` (RFC 8866 §6.6). */
export interface RtpMap {
  /** RTP payload type, 0–127. */
  payloadType: number;
  /** Encoding name as written (compare case-insensitively). */
  encoding: string;
  /** Clock rate in Hz. */
  clockRate: number;
  /** Encoding parameters (the channel count for audio), when written. */
  parameters?: string;
}

const RTPMAP_RE = /^(0|[1-9][0-9]{0,2}) ([^/ ]+)\/([1-9][0-9]{0,9})(?:\/([^/ ]+))?$/;

/** Parses an `a=rtpmap` value. */
export function parseRtpMap(value: string): RtpMap {
  const m = RTPMAP_RE.exec(value);
  if (!m || !isSdpToken(m[2]!) || (m[4] !== undefined && !isSdpToken(m[4]))) {
    throw new SipParseError('malformed a=rtpmap (expected payload-type encoding/clock-rate[/parameters])');
  }
  const payloadType = Number(m[1]);
  if (payloadType > 127) throw new SipParseError('a=rtpmap payload type out of range');
  const r: RtpMap = { payloadType, encoding: m[2]!, clockRate: Number(m[3]) };
  if (m[4] !== undefined) r.parameters = m[4];
  return r;
}

/** Serializes an {@link RtpMap} to an `a=rtpmap` value. */
export function formatRtpMap(r: RtpMap): string {
  return `${r.payloadType} ${r.encoding}/${r.clockRate}${r.parameters === undefined ? '' : '/' + r.parameters}`;
}

/** The channel count of an audio rtpmap (1 when not written). */
export function rtpMapChannels(r: RtpMap): number {
  return r.parameters !== undefined && /^[1-9][0-9]{0,2}$/.test(r.parameters) ? Number(r.parameters) : 1;
}

/** `a=fmtp` (RFC 8866 §6.15). */
export interface Fmtp {
  /** The media format (payload type for RTP). */
  format: string;
  /** Format-specific parameters, as written. */
  parameters: string;
}

/** Parses an `a=fmtp` value. */
export function parseFmtp(value: string): Fmtp {
  const sp = value.indexOf(' ');
  const format = sp < 0 ? value : value.slice(0, sp);
  const parameters = sp < 0 ? '' : value.slice(sp + 1);
  if (!isSdpToken(format) || parameters.length === 0) throw new SipParseError('malformed a=fmtp (expected format parameters)');
  return { format, parameters };
}

/** Parses an `a=ptime` value in milliseconds (RFC 8866 §6.4: non-zero integer or real). */
export function parsePtime(value: string | undefined): number {
  if (value === undefined || !/^(?:[1-9][0-9]{0,5}|(?:0|[1-9][0-9]{0,5})\.[0-9]{0,5}[1-9])$/.test(value)) {
    throw new SipParseError('malformed a=ptime (expected a non-zero packet time)');
  }
  return Number(value);
}

/** The RFC 3551 §6 static payload types (audio and video). */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, Readonly<RtpMap>>> = Object.freeze({
  0: { payloadType: 0, encoding: 'PCMU', clockRate: 8000 },
  3: { payloadType: 3, encoding: 'GSM', clockRate: 8000 },
  4: { payloadType: 4, encoding: 'G723', clockRate: 8000 },
  5: { payloadType: 5, encoding: 'DVI4', clockRate: 8000 },
  6: { payloadType: 6, encoding: 'DVI4', clockRate: 16000 },
  7: { payloadType: 7, encoding: 'LPC', clockRate: 8000 },
  8: { payloadType: 8, encoding: 'PCMA', clockRate: 8000 },
  9: { payloadType: 9, encoding: 'G722', clockRate: 8000 },
  10: { payloadType: 10, encoding: 'L16', clockRate: 44100, parameters: '2' },
  11: { payloadType: 11, encoding: 'L16', clockRate: 44100 },
  12: { payloadType: 12, encoding: 'QCELP', clockRate: 8000 },
  13: { payloadType: 13, encoding: 'CN', clockRate: 8000 },
  14: { payloadType: 14, encoding: 'MPA', clockRate: 90000 },
  15: { payloadType: 15, encoding: 'G728', clockRate: 8000 },
  16: { payloadType: 16, encoding: 'DVI4', clockRate: 11025 },
  17: { payloadType: 17, encoding: 'DVI4', clockRate: 22050 },
  18: { payloadType: 18, encoding: 'G729', clockRate: 8000 },
  25: { payloadType: 25, encoding: 'CelB', clockRate: 90000 },
  26: { payloadType: 26, encoding: 'JPEG', clockRate: 90000 },
  28: { payloadType: 28, encoding: 'nv', clockRate: 90000 },
  31: { payloadType: 31, encoding: 'H261', clockRate: 90000 },
  32: { payloadType: 32, encoding: 'MPV', clockRate: 90000 },
  33: { payloadType: 33, encoding: 'MP2T', clockRate: 90000 },
  34: { payloadType: 34, encoding: 'H263', clockRate: 90000 },
});

/**
 * The mapping of RTP format `format` in `media`: its `a=rtpmap`, else the static payload type
 * (RFC 3551 §6); `undefined` if neither (or `format` is not a payload type).
 */
export function rtpMapOf(media: MediaDescription, format: string): RtpMap | undefined {
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(format)) return undefined;
  const pt = Number(format);
  if (pt > 127) return undefined;
  for (const a of media.attributes) {
    if (a.name !== 'rtpmap' || a.value === undefined) continue;
    const r = parseRtpMap(a.value);
    if (r.payloadType === pt) return r;
  }
  const s = STATIC_PAYLOAD_TYPES[pt];
  return s ? { ...s } : undefined;
}

/** The `a=fmtp` parameters of `format` in `media`, if any. */
export function fmtpOf(media: MediaDescription, format: string): string | undefined {
  for (const a of media.attributes) {
    if (a.name !== 'fmtp' || a.value === undefined) continue;
    const f = parseFmtp(a.value);
    if (f.format === format) return f.parameters;
  }
  return undefined;
}

/** True if the media description carries `a=rtcp-mux` (RFC 5761 §5.1.1). */
export function hasRtcpMux(media: MediaDescription): boolean {
  return media.attributes.some((a) => a.name === 'rtcp-mux');
}
