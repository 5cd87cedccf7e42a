/**
 * Per-connection framing state of a stream transport (TCP, TLS): a {@link StreamFramer} plus
 * enough of the unframed bytes to answer the message that broke the framing (RFC 3261
 * §18.3: the stream cannot be resynchronised, so the transport answers if it can and closes).
 * @module
 */
import {
  buildMessage, contentLengthOf, findHeadEnd, isRecordStart, parseHead, recordFrameLength, StreamFramer,
  type FramerEvent, type MessageLimits,
} from '../sip/index.js';

/** What one chunk produced. */
export interface StreamReadResult {
  /** Complete messages and keep-alives, in order. */
  events: FramerEvent[];
  /** Set when framing failed: the error and, if it was found, the head of the failing message. */
  failure?: { error: unknown; head: Buffer | undefined } | undefined;
}

const CR = 0x0d;
const LF = 0x0a;

/** Framing state of one stream connection. Memory is bounded by the framer's limits. */
export class StreamReader {
  private readonly framer: StreamFramer;
  private readonly limits: MessageLimits;
  /** References (no copies) to the chunks holding the framer's unconsumed tail. */
  private tail: Buffer[] = [];
  private tailLen = 0;

  constructor(limits: MessageLimits) {
    this.limits = limits;
    this.framer = new StreamFramer(limits);
  }

  /** Bytes received and not yet framed. */
  get buffered(): number {
    return this.framer.buffered;
  }

  /** Feeds one chunk from the socket. Never throws. */
  push(chunk: Buffer): StreamReadResult {
    const pending = this.framer.buffered;
    try {
      const events = this.framer.push(chunk);
      this.retain(chunk, this.framer.buffered);
      return { events };
    } catch (error) {
      const all = this.tail.length === 0 ? chunk : Buffer.concat([...this.tail, chunk]);
      this.tail = [];
      this.tailLen = 0;
      return recover(all.subarray(all.length - pending - chunk.length), error, this.limits);
    }
  }

  /** Keeps references to the chunks that contain the last `n` unframed bytes. */
  private retain(chunk: Buffer, n: number): void {
    if (n === 0) {
      this.tail = [];
      this.tailLen = 0;
      return;
    }
    this.tail.push(chunk);
    this.tailLen += chunk.length;
    while (this.tail.length > 1 && this.tailLen - this.tail[0]!.length >= n) {
      this.tailLen -= this.tail.shift()!.length;
    }
  }
}

/**
 * Re-walks the bytes the framer failed on with the same parser primitives, to hand up the
 * complete messages before the fault and to find the head of the faulty one.
 */
function recover(data: Buffer, error: unknown, limits: MessageLimits): StreamReadResult {
  const events: FramerEvent[] = [];
  let off = 0;
  for (;;) {
    let i = off;
    while (i < data.length && (data[i] === CR || data[i] === LF)) i++;
    if (i > off) {
      // RFC 5626 §4.4.1: CRLFCRLF is a ping, a lone CRLF a pong.
      events.push(i - off >= 4 ? { kind: 'ping' } : { kind: 'pong' });
      off = i;
    }
    if (off >= data.length) return { events, failure: { error, head: undefined } };
    if (isRecordStart(data, off)) {
      const size = recordFrameLength(data, off);
      if (size === undefined || off + size > data.length) return { events, failure: { error, head: undefined } };
      events.push({ kind: 'record', bytes: Buffer.from(data.subarray(off, off + size)) });
      off += size;
      continue;
    }
    const end = findHeadEnd(data, off);
    if (!end || end.headEnd - off > limits.maxHeadSize) return { events, failure: { error, head: undefined } };
    const head = data.subarray(off, end.headEnd);
    try {
      const { start, headers } = parseHead(head.toString('latin1'), limits);
      const size = end.bodyStart - off + (contentLengthOf(headers) ?? 0);
      if (size > limits.maxMessageSize || off + size > data.length) return { events, failure: { error, head } };
      const body = Buffer.from(data.subarray(end.bodyStart, off + size));
      events.push({ kind: 'message', message: buildMessage(start, headers, body), size });
      off += size;
    } catch {
      return { events, failure: { error, head } };
    }
  }
}
