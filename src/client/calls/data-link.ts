/**
 * The data channel of a data call (SPEC PEER-1, PEER-3): what an {@link OutgoingCall} or
 * {@link IncomingCall} with `media: 'data'` holds instead of an SRTP media session — the
 * certificate whose fingerprint goes in the SDP, the listener when this end may be passive,
 * and `call.channel`, settled once the TLS channel is verified by both ends (or failed).
 * @module
 */
import type { DataChannelNegotiation, Fingerprint } from '../../sdp/index.js';
import { ACTIVE_PORT } from '../../sdp/index.js';
import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import {
  connectDataChannel, createDataChannelIdentity, DataChannelError, DataChannelListener, identityFingerprint,
  type DataChannel, type DataChannelIdentity, type DataChannelTrust,
} from '../peer/data-channel.js';

/** Options of a data call, for both ends (see `CallOptions` and `AnswerOptions`). */
export interface DataCallOptions {
  /**
   * Also require the peer's certificate to chain to one of `roots` and name `aor` (the
   * callee's AOR for the caller, the caller's AOR for the callee). Default: fingerprint only.
   */
  trust?: DataChannelTrust;
  /** The certificate to present (e.g. the device's domain certificate). Default: a fresh self-signed one. */
  identity?: DataChannelIdentity;
  /** Bound on connect + TLS + verification, ms. Default 10 000. */
  dataChannelTimeoutMs?: number;
  /**
   * Test hook: check the peer's certificate against a corrupted copy of its SDP fingerprint,
   * so that verification fails with `fingerprint-mismatch`. Never set it in production.
   */
  corruptPeerFingerprint?: boolean;
}

/** How long a channel ended by the call may linger half-closed before it is destroyed (ms). */
const LINGER_MS = 5000;

/** One data call's channel. */
export class DataLink {
  /** Settles with the verified channel, or rejects with {@link DataChannelError}. */
  readonly channel: Promise<DataChannel>;
  /** The certificate we present. */
  readonly identity: DataChannelIdentity;
  private readonly listener: DataChannelListener | undefined;
  private readonly o: DataCallOptions;
  private resolveChannel!: (c: DataChannel) => void;
  private rejectChannel!: (e: Error) => void;
  private settled = false;
  private closed = false;
  private socket: DataChannel | undefined;

  private constructor(identity: DataChannelIdentity, listener: DataChannelListener | undefined, o: DataCallOptions) {
    this.identity = identity;
    this.listener = listener;
    this.o = o;
    this.channel = new Promise<DataChannel>((resolve, reject) => {
      this.resolveChannel = resolve;
      this.rejectChannel = reject;
    });
    // Nobody may be waiting on `call.channel`; its failure is also reported by `ended`.
    this.channel.catch(() => undefined);
  }

  /**
   * Prepares one end: with `listen`, a {@link DataChannelListener} on `address` (the offerer,
   * whose `actpass` allows the answerer to pick `active`, and a passive answerer); otherwise
   * only the certificate.
   */
  static async open(address: string, listen: boolean, o: DataCallOptions, env: { clock: Clock; random: Random }): Promise<DataLink> {
    if (listen) {
      const listener = await DataChannelListener.open({
        local: { host: address, port: 0 }, clock: env.clock, random: env.random,
        ...(o.identity ? { identity: o.identity } : {}), ...(o.dataChannelTimeoutMs !== undefined ? { timeoutMs: o.dataChannelTimeoutMs } : {}),
      });
      return new DataLink(listener.identity, listener, o);
    }
    const identity = o.identity ?? await createDataChannelIdentity({ clock: env.clock, random: env.random });
    return new DataLink(identity, undefined, o);
  }

  /** The port to write in our SDP: the listener's, or the discard port when we only connect. */
  get port(): number {
    return this.listener?.port ?? ACTIVE_PORT;
  }

  /** Our `a=fingerprint` (SHA-256). */
  fingerprint(): Fingerprint {
    return identityFingerprint(this.identity);
  }

  /**
   * Sets the channel up as the negotiation says (`active` connects to the peer's address and
   * port, `passive` accepts the peer's connection) and settles {@link channel}. Resolves with
   * the failure, if any (the call then hangs up).
   */
  async start(n: DataChannelNegotiation, localAddress: string, clock: Clock): Promise<DataChannelError | undefined> {
    if (this.closed) return this.fail(new DataChannelError('closed', 'the call ended before the data channel was set up'));
    const remoteFingerprint = this.o.corruptPeerFingerprint ? n.peerFingerprints.map(corrupt) : n.peerFingerprints;
    const common = { clock, ...(this.o.trust ? { trust: this.o.trust } : {}), ...(this.o.dataChannelTimeoutMs !== undefined ? { timeoutMs: this.o.dataChannelTimeoutMs } : {}) };
    try {
      let sock: DataChannel;
      if (n.role === 'passive') {
        if (!this.listener) return this.fail(new DataChannelError('connect', 'negotiated passive but this end does not listen'));
        sock = await this.listener.accept({ host: n.remote.address }, remoteFingerprint, this.o.trust);
      } else if (n.role === 'active') {
        await this.listener?.close();
        sock = await connectDataChannel({
          role: 'active', local: { host: localAddress }, remote: { host: n.remote.address, port: n.remote.port },
          identity: this.identity, remoteFingerprint, ...common,
        });
      } else {
        return this.fail(new DataChannelError('connect', 'the peer put the data channel on hold (a=setup:holdconn)'));
      }
      if (this.closed) {
        sock.destroy();
        return this.fail(new DataChannelError('closed', 'the call ended while the data channel was being set up'));
      }
      this.socket = sock;
      this.settled = true;
      this.resolveChannel(sock);
      return undefined;
    } catch (e) {
      const err = e instanceof DataChannelError ? e : new DataChannelError('tls', `data channel failed: ${(e as Error).message}`, { cause: e });
      return this.fail(err);
    }
  }

  /** Rejects {@link channel} (once) with `err`; returns it. */
  fail(err: DataChannelError): DataChannelError {
    if (!this.settled) {
      this.settled = true;
      this.rejectChannel(err);
    }
    void this.listener?.close();
    return err;
  }

  /**
   * The call ended: a channel not set up yet rejects (`closed`, with `why`); an established
   * one is half-closed (`end()`: what was written is still delivered) and destroyed if the peer
   * does not close its side within a few seconds.
   */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new DataChannelError('closed', `the call ended before the data channel was set up (${why})`));
    const s = this.socket;
    if (s && !s.destroyed) {
      s.end();
      const t = setTimeout(() => s.destroy(), LINGER_MS);
      t.unref();
      s.once('close', () => clearTimeout(t));
    }
  }
}

function corrupt(fp: Fingerprint): Fingerprint {
  const value = Buffer.from(fp.value);
  value[0] = value[0]! ^ 0xff;
  return { ...fp, value };
}
