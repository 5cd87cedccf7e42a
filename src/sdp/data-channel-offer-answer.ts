/**
 * Offer/answer for the peer-to-peer data channel (SPEC PEER-1, PEER-3): one
 * `m=application PORT TCP/TLS <format>` media description (RFC 8122 §4) whose TCP connection
 * direction is negotiated with `a=setup`/`a=connection` (RFC 4145 §4, §5) and whose TLS
 * certificates are pinned with `a=fingerprint` (RFC 8122 §5). The offer says `actpass`; the
 * answerer picks `active` or `passive` (RFC 4145 §4.1). The result gives each end its role,
 * the peer's fingerprints (to check the certificate the peer presents, RFC 8122 §6) and the
 * peer's address and port.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import {
  ACCEPTED_FINGERPRINT_HASHES, formatFingerprint, parseFingerprint, type AcceptedFingerprintHash, type Fingerprint,
} from './fingerprint.js';
import { isSdpToken } from './grammar.js';
import type { SdpLimits } from './limits.js';
import { effectiveConnection, type Attribute, type MediaDescription, type SessionDescription } from './model.js';
import { parseSdp } from './parser.js';
import { checkPort, newSession, type RandomBytes, type SessionOptions } from './session-builder.js';
import { formatSdp } from './serializer.js';
import { answerSetup, offererRole, parseConnectionMode, parseSetup, type ConnectionMode, type SetupRole } from './setup.js';

/** The `m=` proto of a TLS-over-TCP media stream (RFC 8122 §4). */
export const TCP_TLS = 'TCP/TLS';

/** The default `<fmt>` of Sipher's data channel. */
export const DEFAULT_DATA_CHANNEL_FORMAT = 'sipher-data';

/** The port an active endpoint writes: it never listens, so the discard port (RFC 4145 §4). */
export const ACTIVE_PORT = 9;

/** Options common to building a data-channel offer and answer. */
export interface DataChannelOptions extends SessionOptions {
  /** Port we listen on when passive. */
  port: number;
  /** Random source for the session id. */
  random: RandomBytes;
  /** Fingerprints of the certificate we will present (see `computeFingerprint`); at least one. */
  fingerprints: readonly Fingerprint[];
  /** The `<fmt>` token; default {@link DEFAULT_DATA_CHANNEL_FORMAT}. */
  format?: string;
}

/** Options of {@link createDataChannelOffer}. */
export interface DataChannelOfferOptions extends DataChannelOptions {
  /** Our `a=setup`; default `actpass` (RFC 4145 §4.1: the offerer lets the answerer choose). */
  setup?: SetupRole;
  /** `a=connection`; default `new`. */
  connection?: ConnectionMode;
}

/** Options of {@link answerDataChannel}. */
export interface DataChannelAnswerOptions extends DataChannelOptions {
  /** Our role when the offer says `actpass`; default `active`. */
  preferredRole?: 'active' | 'passive';
  /** Hash functions accepted in the peer's fingerprints; default {@link ACCEPTED_FINGERPRINT_HASHES}. */
  acceptedHashes?: readonly AcceptedFingerprintHash[];
  /** Limits when the offer is given as text. */
  limits?: SdpLimits;
}

/** An offer built by {@link createDataChannelOffer}; keep it to apply the answer. */
export interface DataChannelOffer {
  sdp: SessionDescription;
  text: string;
  mediaIndex: number;
  format: string;
  setup: SetupRole;
}

/** What the channel layer needs once the data channel is negotiated. */
export interface DataChannelNegotiation {
  mediaIndex: number;
  format: string;
  /** Ours: `active` connects to {@link remote}, `passive` accepts, `holdconn` waits for a new offer. */
  role: 'active' | 'passive' | 'holdconn';
  /** `new`, or `existing` to keep using an open connection (RFC 4145 §5). */
  connection: ConnectionMode;
  /** The peer's fingerprints with an accepted hash; its certificate must match one (RFC 8122 §6). */
  peerFingerprints: Fingerprint[];
  /** The peer's address and port (the port matters when the peer is passive). */
  remote: { address: string; addrType: string; port: number };
}

/** The result of {@link answerDataChannel}. */
export type DataChannelAnswerResult =
  | { status: 'accepted'; sdp: SessionDescription; text: string; negotiation: DataChannelNegotiation }
  | { status: 'not-acceptable'; reason: string; sipStatus: 488; sdp: SessionDescription; text: string };

/** The result of {@link applyDataChannelAnswer}. */
export type DataChannelAnswerOutcome = { status: 'accepted'; negotiation: DataChannelNegotiation } | { status: 'not-acceptable'; reason: string };

function checkFormat(f: string | undefined): string {
  const format = f ?? DEFAULT_DATA_CHANNEL_FORMAT;
  if (typeof format !== 'string' || !isSdpToken(format)) throw new InvalidArgumentError('format must be an SDP token');
  return format;
}

function fingerprintAttributes(fps: readonly Fingerprint[]): Attribute[] {
  if (!Array.isArray(fps) || fps.length === 0) throw new InvalidArgumentError('at least one certificate fingerprint is required (RFC 8122 §5)');
  return fps.map((fp) => {
    const value = formatFingerprint(fp);
    parseFingerprint(value);
    return { name: 'fingerprint', value };
  });
}

function mediaOf(port: number, format: string, attributes: Attribute[]): MediaDescription {
  return { media: 'application', port, proto: TCP_TLS, formats: [format], connections: [], bandwidths: [], attributes };
}

/** Builds a data-channel offer: `m=application PORT TCP/TLS <format>`, `a=setup`, `a=connection`, `a=fingerprint`. */
export function createDataChannelOffer(opts: DataChannelOfferOptions): DataChannelOffer {
  checkPort(opts.port);
  const format = checkFormat(opts.format);
  const setup = opts.setup === undefined ? 'actpass' : parseSetup(opts.setup);
  const connection = opts.connection === undefined ? 'new' : parseConnectionMode(opts.connection);
  const sdp = newSession(opts, opts.random);
  const port = setup === 'active' ? ACTIVE_PORT : opts.port;
  sdp.media.push(mediaOf(port, format, [{ name: 'setup', value: setup }, { name: 'connection', value: connection }, ...fingerprintAttributes(opts.fingerprints)]));
  return { sdp, text: formatSdp(sdp), mediaIndex: 0, format, setup };
}

function attr(m: MediaDescription, sdp: SessionDescription, name: string): string | undefined {
  return (m.attributes.find((a) => a.name === name) ?? sdp.attributes.find((a) => a.name === name))?.value;
}

/** The peer's fingerprints: media-level ones, else session-level ones (RFC 8122 §5). */
function fingerprintsOf(sdp: SessionDescription, m: MediaDescription): Fingerprint[] {
  const own = m.attributes.filter((a) => a.name === 'fingerprint');
  const list = own.length > 0 ? own : sdp.attributes.filter((a) => a.name === 'fingerprint');
  return list.map((a) => parseFingerprint(a.value!));
}

function remoteOf(sdp: SessionDescription, m: MediaDescription): DataChannelNegotiation['remote'] | string {
  const c = effectiveConnection(sdp, m);
  if (!c || c.netType !== 'IN' || (c.addrType !== 'IP4' && c.addrType !== 'IP6')) return 'no usable connection address';
  return { address: c.address, addrType: c.addrType, port: m.port };
}

function usableFingerprints(sdp: SessionDescription, m: MediaDescription, accepted: readonly string[]): Fingerprint[] | string {
  const all = fingerprintsOf(sdp, m);
  if (all.length === 0) return 'no a=fingerprint (RFC 8122 §5)';
  // RFC 8122 §5.1: consider only fingerprints whose hash function we support.
  const ok = all.filter((fp) => accepted.includes(fp.hash));
  if (ok.length === 0) return `no a=fingerprint with an accepted hash function (offered: ${[...new Set(all.map((f) => f.hash.slice(0, 16)))].join(', ')})`;
  return ok;
}

function checkHashes(h: readonly AcceptedFingerprintHash[] | undefined): readonly string[] {
  const list = h ?? ACCEPTED_FINGERPRINT_HASHES;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => (ACCEPTED_FINGERPRINT_HASHES as readonly string[]).includes(x))) {
    throw new InvalidArgumentError(`acceptedHashes must be a non-empty subset of ${ACCEPTED_FINGERPRINT_HASHES.join(', ')}`);
  }
  return list;
}

function toModel(input: string | Uint8Array | SessionDescription, limits: SdpLimits | undefined): SessionDescription {
  return typeof input === 'string' || input instanceof Uint8Array ? parseSdp(input, limits) : input;
}

/**
 * Answers a data-channel offer: accepts the first `application` stream over `TCP/TLS` with our
 * format and a fingerprint we can check, answers `a=setup` per RFC 4145 §4.1 and
 * `a=connection:new`, and rejects every other stream with port 0 (RFC 3264 §6). Throws
 * {@link SipParseError} (→ `400`) if the offer text is malformed.
 */
export function answerDataChannel(offer: string | Uint8Array | SessionDescription, opts: DataChannelAnswerOptions): DataChannelAnswerResult {
  checkPort(opts.port);
  const format = checkFormat(opts.format);
  const accepted = checkHashes(opts.acceptedHashes);
  const preferred = opts.preferredRole ?? 'active';
  if (preferred !== 'active' && preferred !== 'passive') throw new InvalidArgumentError('preferredRole must be active or passive');
  const ourFingerprints = fingerprintAttributes(opts.fingerprints);
  const o = toModel(offer, opts.limits);
  const sdp = newSession(opts, opts.random);
  const reasons: string[] = [];
  let negotiation: DataChannelNegotiation | undefined;
  o.media.forEach((m, i) => {
    const reject = (reason?: string): void => {
      if (reason) reasons.push(o.media.length > 1 ? `stream ${i + 1}: ${reason}` : reason);
      sdp.media.push({ media: m.media, port: 0, proto: m.proto, formats: [...m.formats], connections: [], bandwidths: [], attributes: [] });
    };
    if (negotiation || m.media !== 'application' || m.port === 0) return reject();
    if (m.proto.toUpperCase() !== TCP_TLS) return reject(`transport ${m.proto} not supported`);
    if (!m.formats.includes(format)) return reject(`format ${m.formats.join(' ').slice(0, 64)} not supported`);
    const remote = remoteOf(o, m);
    if (typeof remote === 'string') return reject(remote);
    const fps = usableFingerprints(o, m, accepted);
    if (typeof fps === 'string') return reject(fps);
    const setupText = attr(m, o, 'setup');
    // RFC 4145 §4.1: an offer without a=setup is active.
    const offered = setupText === undefined ? 'active' : parseSetup(setupText);
    const role = answerSetup(offered, preferred) as 'active' | 'passive' | 'holdconn';
    const port = role === 'active' ? ACTIVE_PORT : opts.port;
    sdp.media.push(mediaOf(port, format, [{ name: 'setup', value: role }, { name: 'connection', value: 'new' }, ...ourFingerprints]));
    negotiation = { mediaIndex: i, format, role, connection: 'new', peerFingerprints: fps, remote };
  });
  const text = formatSdp(sdp);
  if (!negotiation) {
    return { status: 'not-acceptable', reason: reasons.length > 0 ? reasons.join('; ') : 'offer has no data channel stream', sipStatus: 488, sdp, text };
  }
  return { status: 'accepted', sdp, text, negotiation };
}

/**
 * Applies the answer to our data-channel offer: the stream must be accepted over `TCP/TLS`
 * with our format, a fingerprint we can check and an `a=setup` our offer allows (RFC 4145
 * §4.1; absent means `passive`). Throws {@link SipParseError} if the answer text is malformed.
 */
export function applyDataChannelAnswer(
  offer: DataChannelOffer,
  answer: string | Uint8Array | SessionDescription,
  opts: { acceptedHashes?: readonly AcceptedFingerprintHash[]; limits?: SdpLimits } = {},
): DataChannelAnswerOutcome {
  const accepted = checkHashes(opts.acceptedHashes);
  const a = toModel(answer, opts.limits);
  const fail = (reason: string): DataChannelAnswerOutcome => ({ status: 'not-acceptable', reason });
  if (a.media.length !== offer.sdp.media.length) return fail('answer does not have the offer\'s media descriptions');
  const m = a.media[offer.mediaIndex]!;
  if (m.media !== 'application' || m.proto.toUpperCase() !== TCP_TLS) return fail('answer changed the data channel\'s media or transport');
  if (m.port === 0) return fail('answerer rejected the data channel');
  if (!m.formats.includes(offer.format)) return fail('answer does not keep our format');
  const remote = remoteOf(a, m);
  if (typeof remote === 'string') return fail(remote);
  const fps = usableFingerprints(a, m, accepted);
  if (typeof fps === 'string') return fail(fps);
  const setupText = attr(m, a, 'setup');
  const answered = setupText === undefined ? 'passive' : parseSetup(setupText);
  const role = offererRole(offer.setup, answered);
  if (!role) return fail(`answer a=setup:${answered} does not fit our a=setup:${offer.setup} (RFC 4145 §4.1)`);
  const connText = attr(m, a, 'connection');
  const connection = connText === undefined ? 'new' : parseConnectionMode(connText);
  return { status: 'accepted', negotiation: { mediaIndex: offer.mediaIndex, format: offer.format, role, connection, peerFingerprints: fps, remote } };
}
