/**
 * Offer/answer (RFC 3264) for one SRTP audio stream keyed with SDES (RFC 4568): build an
 * offer, answer an offer, and apply the answer to our offer. Results hand the caller what the
 * media layer needs: the SRTP suite, our key material and the peer's, the codecs and the
 * peer's address and port. An offer that cannot be accepted gives a `not-acceptable` result
 * with the reason, so that a UAS can answer `488 Not Acceptable Here` (RFC 3261 §21.4.26),
 * together with an answer in which every stream is rejected with port 0 (RFC 3264 §6).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { formatSrtpKeyParam, parseCryptoAttribute, type KnownCryptoAttribute, type SrtpKeyParam } from './crypto-attribute.js';
import type { SdpLimits } from './limits.js';
import { effectiveConnection, type Attribute, type MediaDescription, type SessionDescription } from './model.js';
import { parseSdp } from './parser.js';
import {
  answerDirection, directionAttribute, effectiveDirection, fmtpOf, hasRtcpMux, offererDirection, parsePtime, rtpMapChannels, rtpMapOf,
  type Direction,
} from './rtp-attributes.js';
import { assessCrypto, checkSuitePolicy } from './sdes-policy.js';
import { checkPort, drawBytes, newSession, type RandomBytes, type SessionOptions } from './session-builder.js';
import { formatSdp } from './serializer.js';
import { DEFAULT_SRTP_SUITES, SRTP_SUITES, type SrtpSuiteName } from './srtp-suites.js';

/** An audio format we can send and receive. */
export interface AudioCodec {
  /** Encoding name as in `a=rtpmap` (matched case-insensitively), e.g. `PCMU`. */
  encoding: string;
  /** Clock rate in Hz. */
  clockRate: number;
  /** Channels; default 1. */
  channels?: number;
  /** Payload type used in our offers; a static type must be its RFC 3551 §6 number. */
  payloadType: number;
  /** `a=fmtp` parameters written with this format, e.g. `0-16` for telephone-event. */
  fmtp?: string;
}

/** PCMU, PCMA (RFC 3551 §6) and telephone-event (RFC 4733 §7.1.1, events 0–16). */
export const DEFAULT_AUDIO_CODECS: readonly AudioCodec[] = Object.freeze([
  { encoding: 'PCMU', clockRate: 8000, payloadType: 0 },
  { encoding: 'PCMA', clockRate: 8000, payloadType: 8 },
  { encoding: 'telephone-event', clockRate: 8000, payloadType: 101, fmtp: '0-16' },
]);

/** Options common to building an offer and an answer. */
export interface AudioSessionOptions extends SessionOptions {
  /** Our RTP port (RTCP on port+1 unless rtcp-mux is negotiated). */
  port: number;
  /** Random source for keys and the session id. */
  random: RandomBytes;
  /** SRTP suites we offer or accept, in preference order; default {@link DEFAULT_SRTP_SUITES}. */
  suites?: readonly SrtpSuiteName[];
  /** Codecs we support, in preference order; default {@link DEFAULT_AUDIO_CODECS}. */
  codecs?: readonly AudioCodec[];
  /** The direction we want; default `sendrecv`. */
  direction?: Direction;
  /** `a=ptime` to write, in ms; none by default. */
  ptime?: number;
}

/** Options of {@link createAudioOffer}. */
export interface AudioOfferOptions extends AudioSessionOptions {
  /** Offer `a=rtcp-mux` (RFC 5761 §5.1.1); default false. */
  rtcpMux?: boolean;
}

/** Options of {@link answerAudio}. */
export interface AudioAnswerOptions extends AudioSessionOptions {
  /** Accept `a=rtcp-mux` when offered; default true. */
  rtcpMux?: boolean;
  /** Refuse plain `RTP/AVP` offers; default true (SPEC PEER-1: media is always SRTP). */
  requireSrtp?: boolean;
  /** Limits when the offer is given as text. */
  limits?: SdpLimits;
}

/** One crypto line of our offer, with the key we will send with if it is chosen. */
export interface OfferedCrypto {
  tag: number;
  suite: SrtpSuiteName;
  key: SrtpKeyParam;
}

/** An offer built by {@link createAudioOffer}; keep it to apply the answer. Holds key material. */
export interface AudioOffer {
  sdp: SessionDescription;
  text: string;
  /** Index of the audio media description. */
  mediaIndex: number;
  /** `RTP/SAVP`. */
  proto: string;
  crypto: OfferedCrypto[];
  codecs: AudioCodec[];
  direction: Direction;
  rtcpMux: boolean;
}

/** A codec both ends use. */
export interface NegotiatedCodec {
  /** The payload type as the peer wrote it: the number to send with (RFC 3264 §6.1). */
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels: number;
  /** The peer's `a=fmtp` parameters for it, if any. */
  fmtp?: string;
}

/** Where the peer receives media (the `c=` and `m=` of its description). */
export interface MediaPeer {
  address: string;
  addrType: string;
  port: number;
}

/** The negotiated SRTP profile and keys (RFC 4568 §6.1: each end sends with its own key). */
export interface SrtpNegotiation {
  suite: SrtpSuiteName;
  /** Tag of the accepted crypto line. */
  tag: number;
  /** Our key: protects what we send. */
  local: SrtpKeyParam;
  /** The peer's keys: open what the peer sends (several only with MKIs). */
  remote: SrtpKeyParam[];
  /** The peer's session parameters as written. */
  remoteSessionParams: string[];
}

/** What the media layer needs once audio is negotiated. */
export interface AudioNegotiation {
  mediaIndex: number;
  /** `RTP/SAVP`, or `RTP/AVP` when SRTP was not required. */
  proto: string;
  /** Audio codecs both ends support, in the offer's order (the first is preferred). */
  codecs: NegotiatedCodec[];
  /** telephone-event (RFC 4733), if both support it. */
  telephoneEvent?: NegotiatedCodec;
  /** Our direction. */
  direction: Direction;
  /** RTP and RTCP share one port (RFC 5761). */
  rtcpMux: boolean;
  /** The peer's `a=ptime`, if given. */
  remotePtime?: number;
  remote: MediaPeer;
  /** Absent only for plain RTP (`requireSrtp: false`). */
  srtp?: SrtpNegotiation;
}

/** The result of {@link answerAudio}. */
export type AudioAnswerResult =
  | { status: 'accepted'; sdp: SessionDescription; text: string; negotiation: AudioNegotiation }
  | { status: 'not-acceptable'; reason: string; sipStatus: 488; sdp: SessionDescription; text: string };

/** The result of {@link applyAudioAnswer}. */
export type AudioAnswerOutcome = { status: 'accepted'; negotiation: AudioNegotiation } | { status: 'not-acceptable'; reason: string };

const TELEPHONE_EVENT = 'telephone-event';

function codecChannels(c: AudioCodec): number {
  return c.channels ?? 1;
}

function checkCodecs(codecs: readonly AudioCodec[]): AudioCodec[] {
  if (!Array.isArray(codecs) || codecs.length === 0) throw new InvalidArgumentError('codecs must list at least one codec');
  const pts = new Set<number>();
  for (const c of codecs) {
    if (typeof c.encoding !== 'string' || !/^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+$/.test(c.encoding)) throw new InvalidArgumentError('codec encoding must be a token');
    if (!Number.isInteger(c.clockRate) || c.clockRate < 1) throw new InvalidArgumentError('codec clockRate must be a positive integer');
    if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) throw new InvalidArgumentError('codec payloadType must be 0–127');
    if (c.channels !== undefined && (!Number.isInteger(c.channels) || c.channels < 1 || c.channels > 255)) throw new InvalidArgumentError('codec channels must be 1–255');
    if (c.fmtp !== undefined && (c.fmtp.length === 0 || /[\r\n\0]/.test(c.fmtp))) throw new InvalidArgumentError('codec fmtp must be a non-empty line');
    if (pts.has(c.payloadType)) throw new InvalidArgumentError(`payload type ${c.payloadType} used twice`);
    pts.add(c.payloadType);
  }
  if (!codecs.some((c) => c.encoding.toLowerCase() !== TELEPHONE_EVENT)) throw new InvalidArgumentError('codecs must include an audio codec besides telephone-event');
  return codecs.map((c) => ({ ...c }));
}

function checkDirection(d: Direction | undefined): Direction {
  if (d === undefined) return 'sendrecv';
  if (d !== 'sendrecv' && d !== 'sendonly' && d !== 'recvonly' && d !== 'inactive') throw new InvalidArgumentError('direction must be sendrecv, sendonly, recvonly or inactive');
  return d;
}

function checkPtimeOption(p: number | undefined): void {
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 1000)) throw new InvalidArgumentError('ptime must be an integer 1–1000 ms');
}

function newKey(suite: SrtpSuiteName, random: RandomBytes): SrtpKeyParam {
  const info = SRTP_SUITES[suite];
  return { key: drawBytes(random, info.keyLength), salt: drawBytes(random, info.saltLength) };
}

function sameKey(a: SrtpKeyParam, b: SrtpKeyParam): boolean {
  return a.key.equals(b.key) && a.salt.equals(b.salt);
}

function rtpmapValue(pt: number, encoding: string, clockRate: number, channels: number): string {
  return `${pt} ${encoding}/${clockRate}${channels > 1 ? '/' + channels : ''}`;
}

interface FormatLine {
  pt: number;
  encoding: string;
  clockRate: number;
  channels: number;
  fmtp?: string;
}

/** `a=rtpmap` for every format (static ones too, as RFC 3264 §10 does), then the `a=fmtp`s. */
function codecAttributes(list: readonly FormatLine[]): Attribute[] {
  const out: Attribute[] = [];
  for (const f of list) out.push({ name: 'rtpmap', value: rtpmapValue(f.pt, f.encoding, f.clockRate, f.channels) });
  for (const f of list) if (f.fmtp !== undefined) out.push({ name: 'fmtp', value: `${f.pt} ${f.fmtp}` });
  return out;
}

/**
 * Builds an SRTP audio offer: `m=audio PORT RTP/SAVP <payload types>` with an `a=rtpmap` per
 * codec and one `a=crypto` per suite, each with a fresh key (RFC 4568 §6.1: every key in the
 * description is unique), most preferred first (RFC 4568 §5.1.1).
 */
export function createAudioOffer(opts: AudioOfferOptions): AudioOffer {
  checkPort(opts.port);
  const suites = checkSuitePolicy(opts.suites ?? DEFAULT_SRTP_SUITES);
  const codecs = checkCodecs(opts.codecs ?? DEFAULT_AUDIO_CODECS);
  const direction = checkDirection(opts.direction);
  checkPtimeOption(opts.ptime);
  const rtcpMux = opts.rtcpMux === true;
  const sdp = newSession(opts, opts.random);
  const crypto: OfferedCrypto[] = suites.map((suite, i) => ({ tag: i + 1, suite, key: newKey(suite, opts.random) }));
  const attributes = codecAttributes(codecs.map((c) => ({ pt: c.payloadType, encoding: c.encoding, clockRate: c.clockRate, channels: codecChannels(c), fmtp: c.fmtp })));
  if (opts.ptime !== undefined) attributes.push({ name: 'ptime', value: String(opts.ptime) });
  if (rtcpMux) attributes.push({ name: 'rtcp-mux' });
  for (const c of crypto) attributes.push({ name: 'crypto', value: `${c.tag} ${c.suite} ${formatSrtpKeyParam(c.key)}` });
  attributes.push({ name: direction });
  sdp.media.push({
    media: 'audio', port: opts.port, proto: 'RTP/SAVP', formats: codecs.map((c) => String(c.payloadType)),
    connections: [], bandwidths: [], attributes,
  });
  return { sdp, text: formatSdp(sdp), mediaIndex: 0, proto: 'RTP/SAVP', crypto, codecs, direction, rtcpMux };
}

function peerOf(sdp: SessionDescription, m: MediaDescription): MediaPeer | string {
  const c = effectiveConnection(sdp, m);
  if (!c) return 'no connection address';
  if (c.netType !== 'IN' || (c.addrType !== 'IP4' && c.addrType !== 'IP6')) return `unsupported connection address type ${c.netType} ${c.addrType}`;
  return { address: c.address, addrType: c.addrType, port: m.port };
}

function sameCodec(a: { encoding: string; clockRate: number; channels: number }, c: AudioCodec): boolean {
  return a.encoding.toLowerCase() === c.encoding.toLowerCase() && a.clockRate === c.clockRate && a.channels === codecChannels(c);
}

/** The formats of `m` we support, in `m`'s order, each with our matching codec. */
function matchCodecs(m: MediaDescription, ours: readonly AudioCodec[]): { codec: NegotiatedCodec; ours: AudioCodec }[] {
  const out: { codec: NegotiatedCodec; ours: AudioCodec }[] = [];
  for (const f of m.formats) {
    const r = rtpMapOf(m, f);
    if (!r) continue;
    const neg: NegotiatedCodec = { payloadType: r.payloadType, encoding: r.encoding, clockRate: r.clockRate, channels: rtpMapChannels(r) };
    const mine = ours.find((c) => sameCodec(neg, c));
    if (!mine || out.some((x) => x.codec.payloadType === neg.payloadType)) continue;
    const fmtp = fmtpOf(m, f);
    if (fmtp !== undefined) neg.fmtp = fmtp;
    out.push({ codec: neg, ours: mine });
  }
  return out;
}

function splitCodecs(matched: { codec: NegotiatedCodec; ours: AudioCodec }[]): {
  audio: { codec: NegotiatedCodec; ours: AudioCodec }[];
  event?: { codec: NegotiatedCodec; ours: AudioCodec };
} {
  const audio = matched.filter((x) => x.codec.encoding.toLowerCase() !== TELEPHONE_EVENT);
  const events = matched.filter((x) => x.codec.encoding.toLowerCase() === TELEPHONE_EVENT);
  // RFC 4733 §2.5.1.3: the event clock matches the audio clock; prefer that one.
  const event = events.find((e) => e.codec.clockRate === audio[0]?.codec.clockRate) ?? events[0];
  return event ? { audio, event } : { audio };
}

function remotePtime(m: MediaDescription): number | undefined {
  const a = m.attributes.find((x) => x.name === 'ptime');
  return a ? parsePtime(a.value) : undefined;
}

type Accepted = { media: MediaDescription; negotiation: AudioNegotiation };

/** Tries to accept offered media description `index`; a string is the reason it cannot be. */
function acceptAudio(offer: SessionDescription, index: number, opts: AudioAnswerOptions, suites: SrtpSuiteName[], codecs: AudioCodec[]): Accepted | string {
  const m = offer.media[index]!;
  const proto = m.proto.toUpperCase();
  const srtp = proto === 'RTP/SAVP';
  if (!srtp && proto !== 'RTP/AVP') return `transport ${m.proto} not supported`;
  if (!srtp && opts.requireSrtp !== false) return 'plain RTP/AVP offered but SRTP is required';
  const peer = peerOf(offer, m);
  if (typeof peer === 'string') return peer;
  const { audio, event } = splitCodecs(matchCodecs(m, codecs));
  if (audio.length === 0) return 'no common audio codec';

  let srtpNeg: SrtpNegotiation | undefined;
  let suiteText = '';
  if (srtp) {
    const lines = m.attributes.filter((a) => a.name === 'crypto' && a.value !== undefined).map((a) => parseCryptoAttribute(a.value!));
    // RFC 4568 §7.1.2 (SDES only; DTLS-SRTP and MIKEY are not implemented).
    if (lines.length === 0) return 'RTP/SAVP offered without a=crypto (only SDES keying is supported)';
    const refusals: string[] = [];
    let chosen: KnownCryptoAttribute | undefined;
    for (const c of lines) {
      const v = assessCrypto(c, suites);
      if (v.ok) {
        chosen = c as KnownCryptoAttribute;
        break;
      }
      refusals.push(v.reason);
    }
    if (!chosen) return `no acceptable crypto suite (${refusals.join('; ')})`;
    const suite = chosen.info.name;
    suiteText = chosen.suite;
    const local = newKey(suite, opts.random);
    // RFC 4568 §7.1.2: the answer's master key MUST differ from the offer's.
    for (const a of lines) if (a.known && a.keys.some((k) => sameKey(k, local))) throw new InvalidArgumentError('random source repeated a key of the offer');
    srtpNeg = { suite, tag: chosen.tag, local, remote: chosen.keys, remoteSessionParams: [...chosen.sessionParams] };
  }

  const offered = effectiveDirection(offer, m);
  const direction = answerDirection(offered, checkDirection(opts.direction));
  const rtcpMux = hasRtcpMux(m) && opts.rtcpMux !== false;
  const chosenCodecs = event ? [...audio, event] : audio;
  // The offer's payload types and names (RFC 3264 §6.1), our own fmtp.
  const attributes = codecAttributes(chosenCodecs.map((x) => ({
    pt: x.codec.payloadType, encoding: x.codec.encoding, clockRate: x.codec.clockRate, channels: x.codec.channels, fmtp: x.ours.fmtp,
  })));
  if (opts.ptime !== undefined) attributes.push({ name: 'ptime', value: String(opts.ptime) });
  if (rtcpMux) attributes.push({ name: 'rtcp-mux' });
  if (srtpNeg) {
    // RFC 4568 §5.1.2: the accepted tag and crypto-suite, with our own key.
    attributes.push({ name: 'crypto', value: `${srtpNeg.tag} ${suiteText} ${formatSrtpKeyParam(srtpNeg.local)}` });
  }
  // Say the direction when it is not the default, or when the offer said one.
  if (direction !== 'sendrecv' || directionAttribute(m.attributes) || directionAttribute(offer.attributes)) attributes.push({ name: direction });
  const negotiation: AudioNegotiation = {
    mediaIndex: index, proto: m.proto, codecs: audio.map((x) => x.codec), direction, rtcpMux, remote: peer,
  };
  if (event) negotiation.telephoneEvent = event.codec;
  const ptime = remotePtime(m);
  if (ptime !== undefined) negotiation.remotePtime = ptime;
  if (srtpNeg) negotiation.srtp = srtpNeg;
  const media: MediaDescription = {
    media: 'audio', port: opts.port, proto: m.proto, formats: chosenCodecs.map((x) => String(x.codec.payloadType)),
    connections: [], bandwidths: [], attributes,
  };
  return { media, negotiation };
}

/** RFC 3264 §6: a rejected stream keeps its media, proto and formats, with port 0. */
function rejected(m: MediaDescription): MediaDescription {
  return { media: m.media, port: 0, proto: m.proto, formats: [...m.formats], connections: [], bandwidths: [], attributes: [] };
}

function toModel(input: string | Uint8Array | SessionDescription, limits: SdpLimits | undefined): SessionDescription {
  return typeof input === 'string' || input instanceof Uint8Array ? parseSdp(input, limits) : input;
}

/**
 * Answers an offer (RFC 3264 §6): accepts the first audio stream whose transport, codecs and
 * crypto lines are acceptable — codecs we support in the offer's order, the first crypto line
 * in the offer's order whose suite our policy allows (RFC 4568 §5.1.2), answered with the
 * same tag and our own fresh key — and rejects every other stream with port 0. The direction
 * follows RFC 3264 §6.1. Throws {@link SipParseError} (→ `400`) if the offer text is
 * malformed.
 */
export function answerAudio(offer: string | Uint8Array | SessionDescription, opts: AudioAnswerOptions): AudioAnswerResult {
  checkPort(opts.port);
  const suites = checkSuitePolicy(opts.suites ?? DEFAULT_SRTP_SUITES);
  const codecs = checkCodecs(opts.codecs ?? DEFAULT_AUDIO_CODECS);
  checkDirection(opts.direction);
  checkPtimeOption(opts.ptime);
  const o = toModel(offer, opts.limits);
  const sdp = newSession(opts, opts.random);
  const reasons: string[] = [];
  let negotiation: AudioNegotiation | undefined;
  o.media.forEach((m, i) => {
    if (negotiation || m.media !== 'audio' || m.port === 0) {
      sdp.media.push(rejected(m));
      return;
    }
    const r = acceptAudio(o, i, opts, suites, codecs);
    if (typeof r === 'string') {
      reasons.push(o.media.length > 1 ? `stream ${i + 1}: ${r}` : r);
      sdp.media.push(rejected(m));
    } else {
      negotiation = r.negotiation;
      sdp.media.push(r.media);
    }
  });
  const text = formatSdp(sdp);
  if (!negotiation) {
    const reason = reasons.length > 0 ? reasons.join('; ') : 'offer has no audio stream';
    return { status: 'not-acceptable', reason, sipStatus: 488, sdp, text };
  }
  return { status: 'accepted', sdp, text, negotiation };
}

/**
 * Applies the answer to our offer (RFC 3264 §7, RFC 4568 §5.1.3): the audio stream must be
 * accepted with one crypto line echoing one of our tags and suites, carrying a key different
 * from ours, and at least one codec we offered. Throws {@link SipParseError} if the answer
 * text is malformed.
 */
export function applyAudioAnswer(offer: AudioOffer, answer: string | Uint8Array | SessionDescription, limits?: SdpLimits): AudioAnswerOutcome {
  const a = toModel(answer, limits);
  const fail = (reason: string): AudioAnswerOutcome => ({ status: 'not-acceptable', reason });
  // RFC 3264 §6: the answer has as many m= lines as the offer, in the same order.
  if (a.media.length !== offer.sdp.media.length) return fail('answer does not have the offer\'s media descriptions');
  const m = a.media[offer.mediaIndex]!;
  if (m.media !== 'audio' || m.proto.toUpperCase() !== offer.proto) return fail('answer changed the audio stream\'s media or transport');
  if (m.port === 0) return fail('answerer rejected the audio stream');
  const peer = peerOf(a, m);
  if (typeof peer === 'string') return fail(peer);
  const { audio, event } = splitCodecs(matchCodecs(m, offer.codecs));
  if (audio.length === 0) return fail('answer has no codec we offered');

  const lines = m.attributes.filter((x) => x.name === 'crypto' && x.value !== undefined).map((x) => parseCryptoAttribute(x.value!));
  // RFC 4568 §5.1.3, §7.4: exactly one crypto line, echoing an offered tag and suite.
  if (lines.length !== 1) return fail(lines.length === 0 ? 'answer has no a=crypto' : 'answer has several a=crypto lines');
  const c = lines[0]!;
  const mine = offer.crypto.find((x) => x.tag === c.tag);
  if (!mine || c.suite.toUpperCase() !== mine.suite || !c.known) return fail('answer\'s a=crypto does not match an offered tag and suite');
  const verdict = assessCrypto(c, [mine.suite]);
  if (!verdict.ok) return fail(verdict.reason);
  if (c.keys.some((k) => offer.crypto.some((x) => sameKey(x.key, k)))) return fail('answer reuses a key of the offer (RFC 4568 §7.1.2)');

  const answered = effectiveDirection(a, m);
  const negotiation: AudioNegotiation = {
    mediaIndex: offer.mediaIndex,
    proto: offer.proto,
    codecs: audio.map((x) => x.codec),
    direction: offererDirection(offer.direction, answered),
    rtcpMux: offer.rtcpMux && hasRtcpMux(m),
    remote: peer,
    srtp: { suite: mine.suite, tag: mine.tag, local: mine.key, remote: c.keys, remoteSessionParams: [...c.sessionParams] },
  };
  if (event) negotiation.telephoneEvent = event.codec;
  const ptime = remotePtime(m);
  if (ptime !== undefined) negotiation.remotePtime = ptime;
  return { status: 'accepted', negotiation };
}
