/**
 * One direction of an SRTP session (RFC 3711 §3.2): the session keys derived from one master
 * key, and per SSRC the rollover counter/highest index, the replay windows and the SRTCP index.
 * The sender protects with one `SrtpContext`; the receiver unprotects with another built from
 * the same key material.
 * @module
 */
import { deriveSrtpSessionKeys } from './key-derivation.js';
import { createSrtpTransform } from './create-transform.js';
import { estimateRtpIndex, MAX_RTCP_INDEX, MAX_RTP_INDEX, rolloverCounter } from './packet-index.js';
import { srtpProfileParams, type SrtpProfile } from './profiles.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replay.js';
import {
  parseRtpHeader, RTCP_CLEAR_PREFIX, RTP_FIXED_HEADER, rtcpSsrc, rtpSequenceNumber, rtpSsrc, rtpVersion,
} from './rtp-header.js';
import { SrtpError } from './srtp-error.js';
import type { SrtpTransform } from './transform.js';

/** Master key material for one SRTP session direction. */
export interface SrtpKeyMaterial {
  /** Protection profile. */
  profile: SrtpProfile;
  /** Master key: 16 bytes (AES-128 profiles) or 32 bytes (`AEAD_AES_256_GCM`). */
  masterKey: Uint8Array;
  /** Master salt: 14 bytes (AES-CM, RFC 3711 §8.2) or 12 bytes (AES-GCM, RFC 7714 §11). */
  masterSalt: Uint8Array;
}

/** Options of an {@link SrtpContext}. */
export interface SrtpContextOptions {
  /**
   * Replay window size for SRTP and SRTCP (RFC 3711 §3.3.2): an integer in 64..32768,
   * default 128.
   */
  replayWindow?: number;
  /**
   * Allow protecting the same SSRC/index twice (retransmission of the identical packet).
   * Off by default: two different packets protected under one index reuse the AES-CM keystream
   * or the GCM nonce (RFC 3711 §9.1, RFC 7714 §13), so `protectRtp` refuses it with
   * `SrtpError('replay')` (or `'too-old'` left of the window).
   */
  allowRepeatTx?: boolean;
}

/** Per-SSRC state (RFC 3711 §3.2.1 transform-independent parameters). */
interface SsrcState {
  /** SRTP: highest index protected/accepted (ROC, s_l) and which recent ones were. */
  readonly rtp: ReplayWindow;
  /** SRTCP receive side: replay window over the 31-bit SRTCP index. */
  rtcp: ReplayWindow | undefined;
  /** SRTCP send side: the next SRTCP index to use. */
  rtcpNext: number;
}

function bytesOf(packet: unknown): Uint8Array {
  if (!(packet instanceof Uint8Array)) throw new SrtpError('malformed', 'packet is not a byte array');
  return packet;
}

/**
 * One direction of SRTP/SRTCP protection for any number of SSRCs sharing one master key
 * (key_derivation_rate 0, no MKI). `protect*` on the sending side, `unprotect*` on the
 * receiving side. Bad input only ever raises {@link SrtpError}; the context state changes only
 * for packets that were protected or that authenticated.
 */
export class SrtpContext {
  /** Protection profile. */
  readonly profile: SrtpProfile;
  readonly #transform: SrtpTransform;
  readonly #window: number;
  readonly #allowRepeatTx: boolean;
  readonly #streams = new Map<number, SsrcState>();

  /**
   * Derives the session keys (RFC 3711 §4.3) from `key`.
   * @throws SrtpError (`malformed`) when the profile is unknown or the key/salt length does not
   *   match it; RangeError for a replay window outside 64..32768.
   */
  constructor(key: SrtpKeyMaterial, opts: SrtpContextOptions = {}) {
    const p = srtpProfileParams(key.profile);
    if (!(key.masterKey instanceof Uint8Array) || key.masterKey.length !== p.keyLength) {
      throw new SrtpError('malformed', `${p.name} needs a ${p.keyLength}-byte master key`);
    }
    if (!(key.masterSalt instanceof Uint8Array) || key.masterSalt.length !== p.saltLength) {
      throw new SrtpError('malformed', `${p.name} needs a ${p.saltLength}-byte master salt`);
    }
    this.#window = opts.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    new ReplayWindow(this.#window); // validates the size now rather than on the first packet
    this.#allowRepeatTx = opts.allowRepeatTx ?? false;
    this.profile = p.name;
    this.#transform = createSrtpTransform(p.name, deriveSrtpSessionKeys(p.name, key.masterKey, key.masterSalt));
  }

  /** SRTP authentication tag length in bytes (10, 4 or 16). */
  get rtpTagLength(): number {
    return this.#transform.rtpTagLength;
  }

  /** SRTCP authentication tag length in bytes (10 or 16). */
  get rtcpTagLength(): number {
    return this.#transform.rtcpTagLength;
  }

  /** The rollover counter of `ssrc` (RFC 3711 §3.2.1), or undefined if the SSRC is unknown. */
  rolloverCounter(ssrc: number): number | undefined {
    const s = this.#streams.get(ssrc >>> 0);
    return s === undefined || s.rtp.highest < 0 ? undefined : rolloverCounter(s.rtp.highest);
  }

  /** The SSRCs this context holds state for. */
  ssrcs(): number[] {
    return [...this.#streams.keys()];
  }

  /** Forgets the state of `ssrc` (e.g. after an RTCP BYE); returns whether it was known. */
  forgetSsrc(ssrc: number): boolean {
    return this.#streams.delete(ssrc >>> 0);
  }

  #state(ssrc: number): SsrcState {
    let s = this.#streams.get(ssrc);
    if (s === undefined) {
      s = { rtp: new ReplayWindow(this.#window), rtcp: undefined, rtcpNext: 0 };
      this.#streams.set(ssrc, s);
    }
    return s;
  }

  /**
   * RTP → SRTP (RFC 3711 §3.3 sender steps): the payload is encrypted, the tag appended.
   * @throws SrtpError `malformed` when `packet` is not a version-2 RTP packet whose CSRCs and
   *   header extension fit; `replay`/`too-old` when its index was already used (unless
   *   `allowRepeatTx`); RangeError when the 2^48 index space is exhausted (rekey).
   */
  protectRtp(packet: Uint8Array): Buffer {
    const pkt = bytesOf(packet);
    const hdr = parseRtpHeader(pkt);
    if (hdr === null) throw new SrtpError('malformed', 'not an RTP version 2 packet');
    const st = this.#state(hdr.ssrc);
    // RFC 3711 §3.3.1: the sender's ROC counts its own sequence-number wraps; estimating from
    // the highest index sent handles both wraps and the odd out-of-order send.
    const index = estimateRtpIndex(st.rtp.highest, hdr.sequenceNumber);
    if (index < 0) throw new SrtpError('too-old', 'sequence number precedes the first rollover period');
    if (index >= MAX_RTP_INDEX) throw new RangeError('SRTP packet index space exhausted; rekey (RFC 3711 §9.2)');
    const verdict = st.rtp.check(index);
    if (verdict !== 'ok' && !this.#allowRepeatTx) {
      throw new SrtpError(verdict, `SSRC ${hdr.ssrc} index ${index} was already protected`);
    }
    const out = this.#transform.protectRtp(pkt, hdr.headerLength, hdr.ssrc, index);
    st.rtp.accept(index);
    return out;
  }

  /**
   * SRTP → RTP (RFC 3711 §3.3 receiver steps): index estimation (§3.3.1), replay check
   * (§3.3.2), authentication, decryption, then the ROC/s_l/replay-list update.
   * @throws SrtpError `malformed` (shorter than 12 bytes + tag, or authentic but not valid RTP),
   *   `replay`, `too-old`, `auth`.
   */
  unprotectRtp(packet: Uint8Array): Buffer {
    const pkt = bytesOf(packet);
    const tagLength = this.#transform.rtpTagLength;
    if (pkt.length < RTP_FIXED_HEADER + tagLength) {
      throw new SrtpError('malformed', `SRTP packet of ${pkt.length} bytes is shorter than header and tag`);
    }
    const ssrc = rtpSsrc(pkt);
    const st = this.#streams.get(ssrc);
    const index = estimateRtpIndex(st === undefined ? -1 : st.rtp.highest, rtpSequenceNumber(pkt));
    if (index < 0 || index >= MAX_RTP_INDEX) throw new SrtpError('too-old', 'packet index outside the rollover range');
    // RFC 3711 §3.3 step 4: drop replays before spending time on authentication.
    if (st !== undefined) {
      const verdict = st.rtp.check(index);
      if (verdict !== 'ok') throw new SrtpError(verdict, `SSRC ${ssrc} index ${index}`);
    }
    const out = this.#transform.unprotectRtp(pkt, ssrc, index);
    if (out === 'auth') throw new SrtpError('auth', `SSRC ${ssrc} authentication tag mismatch`);
    if (out === 'malformed' || rtpVersion(out) !== 2) throw new SrtpError('malformed', 'authentic packet is not valid RTP');
    // RFC 3711 §3.3.1/§3.3.2: ROC, s_l and the replay list change only after authentication.
    (st ?? this.#state(ssrc)).rtp.accept(index);
    return out;
  }

  /**
   * RTCP (compound) → SRTCP (RFC 3711 §3.4): everything after the first 8 octets is encrypted,
   * the E flag set, this SSRC's SRTCP index appended (0 for the first packet, then +1 each) and
   * the tag — always 80 bits for the AES-CM profiles, 128 bits for AES-GCM.
   * @throws SrtpError `malformed` when `packet` is shorter than 8 bytes or not RTCP version 2;
   *   RangeError when the 2^31 SRTCP index space is exhausted (rekey).
   */
  protectRtcp(packet: Uint8Array): Buffer {
    const pkt = bytesOf(packet);
    // Only what SRTCP itself needs: the 8 clear octets of a version-2 RTCP header (RFC 3711
    // §3.4). The compound structure (RFC 3550 §6.1) is the application's; see isRtcpCompound.
    if (pkt.length < RTCP_CLEAR_PREFIX || rtpVersion(pkt) !== 2) throw new SrtpError('malformed', 'not an RTCP version 2 packet');
    const ssrc = rtcpSsrc(pkt);
    const st = this.#state(ssrc);
    const index = st.rtcpNext;
    if (index >= MAX_RTCP_INDEX) throw new RangeError('SRTCP index space exhausted; rekey (RFC 3711 §3.4)');
    const out = this.#transform.protectRtcp(pkt, ssrc, index, true);
    st.rtcpNext = index + 1;
    return out;
  }

  /**
   * SRTCP → RTCP: replay check on the explicit 31-bit SRTCP index, authentication, decryption
   * when the E flag is set (an authenticated E=0 packet is returned as sent, RFC 3711 §3.4).
   * @throws SrtpError `malformed` (too short, or authentic but not RTCP version 2), `replay`,
   *   `too-old`, `auth`.
   */
  unprotectRtcp(packet: Uint8Array): Buffer {
    const pkt = bytesOf(packet);
    const t = this.#transform;
    if (pkt.length < t.minRtcpLength) {
      throw new SrtpError('malformed', `SRTCP packet of ${pkt.length} bytes is shorter than ${t.minRtcpLength}`);
    }
    const ssrc = rtcpSsrc(pkt);
    const off = t.rtcpIndexOffset(pkt.length);
    const word = ((pkt[off] << 24) | (pkt[off + 1] << 16) | (pkt[off + 2] << 8) | pkt[off + 3]) >>> 0;
    const encrypted = word >>> 31 === 1;
    const index = word & 0x7fffffff;
    const st = this.#streams.get(ssrc);
    if (st?.rtcp !== undefined) {
      const verdict = st.rtcp.check(index);
      if (verdict !== 'ok') throw new SrtpError(verdict, `SSRC ${ssrc} SRTCP index ${index}`);
    }
    const out = t.unprotectRtcp(pkt, ssrc, index, encrypted);
    if (out === 'auth') throw new SrtpError('auth', `SSRC ${ssrc} SRTCP authentication tag mismatch`);
    if (out === 'malformed' || rtpVersion(out) !== 2) throw new SrtpError('malformed', 'authentic packet is not valid RTCP');
    const s = st ?? this.#state(ssrc);
    s.rtcp ??= new ReplayWindow(this.#window);
    s.rtcp.accept(index);
    return out;
  }
}
