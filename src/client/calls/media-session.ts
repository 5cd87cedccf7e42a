/**
 * The media of one call (SPEC PEER-2): one UDP socket, SRTP (RFC 3711) with the profile and
 * SDES keys (RFC 4568) negotiated in the SDP, RTP packets of the negotiated codec straight to
 * the peer's address — never through the server. The sender protects with our key, the
 * receiver opens with the peer's (RFC 4568 §6.1: each direction has its own master key).
 *
 * Receiving: every datagram is run through SRTP authentication, whatever address it came
 * from; one that authenticates is accepted even from another address (the peer may sit behind
 * a NAT; symmetric RTP is not required), one that does not is counted and dropped. Packets that
 * arrive before the answer is known (the callee may start sending before its 2xx reaches the
 * caller) are held, a few, and opened once the keys are known.
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { SrtpContext, SrtpError, isSrtpProfile, type SrtpProfile } from '../../crypto/srtp/index.js';
import { InvalidArgumentError } from '../../errors.js';
import type { AudioNegotiation, NegotiatedCodec } from '../../sdp/audio-offer-answer.js';
import { nullLogger, type Logger } from '../../util/logger.js';
import type { Random } from '../../util/random.js';
import { buildRtpPacket, looksLikeRtcp, parseRtpPacket, type RtpHeader } from './rtp-packet.js';

/** Counters of a {@link MediaSession}. */
export interface MediaStats {
  /** SRTP packets sent. */
  sent: number;
  /** SRTP packets that authenticated and were delivered as `rtp`. */
  received: number;
  /** Packets whose SRTP/SRTCP authentication tag did not verify (wrong key, altered, not ours). */
  authFailures: number;
  /** Packets refused as replays or left of the replay window (RFC 3711 §3.3.2). */
  replays: number;
  /** Packets too short or not RTP/RTCP, before or after authentication. */
  malformed: number;
  /** SRTCP packets that authenticated (RTCP multiplexed on the RTP port, RFC 5761). */
  rtcpReceived: number;
  /** Datagrams dropped because they arrived before the keys were known (over the hold limit) or after close. */
  dropped: number;
  /** Sends the socket reported as failed. */
  sendErrors: number;
}

/** Where a datagram came from. */
export interface MediaSource {
  address: string;
  port: number;
}

/** Listener of authenticated RTP: the payload (decrypted), the header and the sender's address. */
export type RtpListener = (payload: Buffer, header: RtpHeader, source: MediaSource) => void;

/** Options of {@link MediaSession.open}. */
export interface MediaSessionOptions {
  /** Local address to bind (port 0) and to write in the SDP. */
  address: string;
  /** Source of the SSRC and the initial sequence number and timestamp (RFC 3550 §5.1: random). */
  random: Random;
  logger?: Logger;
  /** SRTP replay window (RFC 3711 §3.3.2); default that of {@link SrtpContext}. */
  replayWindow?: number;
}

/** Options of {@link MediaSession.send}. */
export interface SendOptions {
  /** Samples in the payload, the timestamp step (RFC 3550 §5.1). Default: the payload length (one byte per sample: PCMU/PCMA). */
  samples?: number;
  /** The RTP marker bit (RFC 3551 §4.1: the first packet of a talkspurt). */
  marker?: boolean;
}

/** Datagrams held while the keys are unknown. */
const HOLD_LIMIT = 64;

/**
 * Why a negotiation cannot be used by this media layer, or undefined if it can: SRTP must have
 * been negotiated with a profile the SRTP layer implements, one peer key without an MKI
 * (the layer keeps one master key per direction, RFC 3711 §8.1 MKI is not implemented).
 */
export function mediaProblem(n: AudioNegotiation): string | undefined {
  if (!n.srtp) return 'media is not SRTP';
  if (!isSrtpProfile(n.srtp.suite)) return `SRTP suite ${n.srtp.suite} not implemented`;
  if (n.srtp.remote.length !== 1) return 'several SRTP master keys (MKI) not supported';
  if (n.srtp.remote[0]!.mki !== undefined || n.srtp.local.mki !== undefined) return 'SRTP MKI not supported';
  if (n.remote.port === 0) return 'audio stream rejected';
  return undefined;
}

/** One call's SRTP audio over one UDP socket. */
export class MediaSession {
  private readonly socket: Socket;
  private readonly log: Logger;
  private readonly replayWindow: number | undefined;
  private readonly listeners = new Set<RtpListener>();
  private readonly held: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  private readonly counters: MediaStats = { sent: 0, received: 0, authFailures: 0, replays: 0, malformed: 0, rtcpReceived: 0, dropped: 0, sendErrors: 0 };
  private tx: SrtpContext | undefined;
  private rx: SrtpContext | undefined;
  private peer: MediaSource | undefined;
  private codec: NegotiatedCodec | undefined;
  private rtcpMux = false;
  private canSend = true;
  private seq: number;
  private timestamp: number;
  private closed = false;
  private last: MediaSource | undefined;
  /** Our SSRC (RFC 3550 §8.1: chosen at random). */
  readonly ssrc: number;
  /** Bound address. */
  readonly localAddress: string;
  /** Bound port (written in the SDP `m=` line). */
  readonly localPort: number;

  private constructor(socket: Socket, o: MediaSessionOptions) {
    this.socket = socket;
    this.log = o.logger ?? nullLogger;
    this.replayWindow = o.replayWindow;
    const r = o.random.bytes(10);
    this.ssrc = r.readUInt32BE(0);
    this.seq = r.readUInt16BE(4);
    this.timestamp = r.readUInt32BE(6);
    const a = socket.address();
    this.localAddress = a.address;
    this.localPort = a.port;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (error) => this.log.warn('media socket error', { error }));
  }

  /** Binds a UDP socket on `address`, port 0. */
  static async open(o: MediaSessionOptions): Promise<MediaSession> {
    const socket = createSocket({ type: isIPv6(o.address) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, o.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new MediaSession(socket, o);
  }

  /** True once keys and peer are set ({@link start}). */
  get started(): boolean {
    return this.tx !== undefined;
  }

  /** The negotiated SRTP profile, once started. */
  get profile(): SrtpProfile | undefined {
    return this.tx?.profile;
  }

  /** Where we send: the peer's `c=`/`m=` address and port. */
  get remote(): MediaSource | undefined {
    return this.peer;
  }

  /** The codec we send with (the first one negotiated, RFC 3264 §6.1). */
  get sendCodec(): NegotiatedCodec | undefined {
    return this.codec;
  }

  /** Where the last authenticated packet came from. */
  get lastSource(): MediaSource | undefined {
    return this.last;
  }

  /** A copy of the counters. */
  stats(): MediaStats {
    return { ...this.counters };
  }

  /**
   * Sets the keys, codec and peer of the negotiation and opens the packets held so far.
   * @throws InvalidArgumentError when {@link mediaProblem} names a problem, or when started twice.
   */
  start(n: AudioNegotiation): void {
    if (this.closed) throw new InvalidArgumentError('media session is closed');
    if (this.tx) throw new InvalidArgumentError('media session already started');
    const problem = mediaProblem(n);
    if (problem) throw new InvalidArgumentError(problem);
    const s = n.srtp!;
    const profile = s.suite as SrtpProfile;
    const opts = this.replayWindow === undefined ? {} : { replayWindow: this.replayWindow };
    this.tx = new SrtpContext({ profile, masterKey: s.local.key, masterSalt: s.local.salt }, opts);
    this.rx = new SrtpContext({ profile, masterKey: s.remote[0]!.key, masterSalt: s.remote[0]!.salt }, opts);
    this.peer = { address: n.remote.address, port: n.remote.port };
    this.codec = n.codecs[0];
    this.rtcpMux = n.rtcpMux;
    this.canSend = n.direction === 'sendrecv' || n.direction === 'sendonly';
    this.log.debug('media started', { profile, peer: `${n.remote.address}:${n.remote.port}`, codec: this.codec?.encoding, local: `${this.localAddress}:${this.localPort}` });
    for (const h of this.held.splice(0)) this.onDatagram(h.msg, h.rinfo);
  }

  /**
   * Sends one RTP packet of the negotiated codec carrying `payload` (e.g. 160 bytes of PCMU:
   * 20 ms at 8 kHz), protected with our SRTP key. Sequence number +1 and timestamp + samples
   * per packet (RFC 3550 §5.1).
   * @throws InvalidArgumentError before {@link start}, after close, or when the negotiated
   *   direction does not let us send.
   */
  send(payload: Uint8Array, opts: SendOptions = {}): void {
    if (this.closed) throw new InvalidArgumentError('media session is closed');
    if (!this.tx || !this.peer || !this.codec) throw new InvalidArgumentError('media session not started');
    if (!this.canSend) throw new InvalidArgumentError('the negotiated direction does not allow sending');
    const samples = opts.samples ?? payload.length;
    const pkt = buildRtpPacket({ payloadType: this.codec.payloadType, marker: opts.marker === true, sequenceNumber: this.seq, timestamp: this.timestamp, ssrc: this.ssrc }, payload);
    const srtp = this.tx.protectRtp(pkt);
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.counters.sent++;
    this.socket.send(srtp, this.peer.port, this.peer.address, (error) => {
      if (error) {
        this.counters.sendErrors++;
        this.log.debug('media send failed', { error });
      }
    });
  }

  /** Adds a listener of authenticated RTP. */
  on(event: 'rtp', listener: RtpListener): this {
    if (event === 'rtp') this.listeners.add(listener);
    return this;
  }

  /** Removes a listener. */
  off(event: 'rtp', listener: RtpListener): this {
    if (event === 'rtp') this.listeners.delete(listener);
    return this;
  }

  /** Closes the socket; later datagrams and sends are refused. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.held.length = 0;
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    if (!this.rx) {
      if (this.held.length < HOLD_LIMIT) this.held.push({ msg, rinfo });
      else this.counters.dropped++;
      return;
    }
    const source = { address: rinfo.address, port: rinfo.port };
    try {
      if (this.rtcpMux && looksLikeRtcp(msg)) {
        this.rx.unprotectRtcp(msg);
        this.counters.rtcpReceived++;
        return;
      }
      const clear = this.rx.unprotectRtp(msg);
      const parsed = parseRtpPacket(clear);
      if (!parsed) {
        this.counters.malformed++;
        return;
      }
      this.counters.received++;
      this.last = source;
      for (const l of [...this.listeners]) {
        try {
          l(parsed.payload, parsed.header, source);
        } catch (error) {
          this.log.warn('rtp listener threw', { error: error as Error });
        }
      }
    } catch (e) {
      if (!(e instanceof SrtpError)) throw e;
      if (e.reason === 'auth') this.counters.authFailures++;
      else if (e.reason === 'replay' || e.reason === 'too-old') this.counters.replays++;
      else this.counters.malformed++;
    }
  }
}
