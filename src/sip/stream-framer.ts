/**
 * Framing of SIP messages on a byte stream (TCP, TLS): RFC 3261 §18.3 — the head ends at
 * the first empty line and Content-Length (mandatory on streams) gives the body size.
 * Leading CRLFs are RFC 5626 §4.4.1 keep-alives: a double CRLF "ping" is reported so that
 * the transport can answer with a single CRLF "pong".
 * @module
 */
import { MessageTooLargeError, SipParseError } from '../errors.js';
import { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
import { buildMessage, contentLengthOf, findHeadEnd, parseHead } from './parser.js';
import { isRecordStart, recordFrameLength } from './record-frame.js';
import type { SipMessage } from './message.js';

/** What the framer found in the bytes fed to it. */
export type FramerEvent =
  | { kind: 'message'; message: SipMessage; size: number }
  /** An SA record (docs/protocol.md §3.2), framed by its own length; opened by the SA layer. */
  | { kind: 'record'; bytes: Buffer }
  | { kind: 'ping' }
  | { kind: 'pong' };

/**
 * Incremental framer. Feed it chunks with {@link push}; it returns the complete messages
 * and keep-alives found. A framing error is thrown and leaves the framer unusable: the
 * transport answers `400` if it can and closes the connection (the stream cannot be resynchronised).
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly limits: MessageLimits;
  private failed = false;

  constructor(limits: MessageLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Bytes buffered and not yet framed. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Adds a chunk and returns every complete event in it. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.failed) throw new SipParseError('Stream framing already failed');
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramerEvent[] = [];
    try {
      for (;;) {
        const ev = this.next();
        if (!ev) break;
        out.push(ev);
      }
    } catch (e) {
      this.failed = true;
      this.buf = Buffer.alloc(0);
      throw e;
    }
    return out;
  }

  private next(): FramerEvent | undefined {
    const b = this.buf;
    // RFC 5626 §3.5.1: CRLFCRLF is a ping, a lone CRLF a pong (or stray line ending).
    let i = 0;
    while (i < b.length && (b[i] === 0x0d || b[i] === 0x0a)) i++;
    if (i > 0) {
      if (i === b.length && b.length < 4 && b[b.length - 1] === 0x0d) return undefined; // wait for LF
      this.buf = b.subarray(i);
      if (i >= 4) return { kind: 'ping' };
      return { kind: 'pong' };
    }
    if (isRecordStart(b)) {
      const size = recordFrameLength(b);
      if (size === undefined || b.length < size) return undefined;
      const bytes = Buffer.from(b.subarray(0, size));
      this.buf = b.subarray(size);
      return { kind: 'record', bytes };
    }
    const end = findHeadEnd(b);
    if (!end) {
      if (b.length > this.limits.maxHeadSize) throw new MessageTooLargeError(b.length, this.limits.maxHeadSize);
      return undefined;
    }
    const { start, headers } = parseHead(b.toString('latin1', 0, end.headEnd), this.limits);
    // RFC 3261 §18.3: on a stream, Content-Length is mandatory; treat its absence as zero.
    const cl = contentLengthOf(headers) ?? 0;
    const size = end.bodyStart + cl;
    if (size > this.limits.maxMessageSize) throw new MessageTooLargeError(size, this.limits.maxMessageSize);
    if (b.length < size) return undefined;
    const body = Buffer.from(b.subarray(end.bodyStart, size));
    this.buf = b.subarray(size);
    return { kind: 'message', message: buildMessage(start, headers, body), size };
  }
}
