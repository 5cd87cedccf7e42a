/**
 * SA records on a byte stream (src/sip/record-frame.ts, stream-framer.ts `record` events,
 * src/transport/stream-reader.ts): records interleaved with SIP messages and CRLF keep-alives
 * come out whole and in order however the stream is chunked.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS, isRecordStart, parseDatagram, RECORD_HEADER_LENGTH, recordFrameLength, serialize, StreamFramer, type FramerEvent,
} from '../../../src/sip/index.js';
import { StreamReader } from '../../../src/transport/stream-reader.js';
import { allocRecord } from '../../../src/security/sa/index.js';
import { invite, ok, PEER, saPair, SA_ID } from './fixtures.js';

type Token = string;

/** Events as comparable tokens; a run of keep-alives collapses into one `ka` (a CRLFCRLF split in two is two pongs). */
function tokens(events: FramerEvent[]): Token[] {
  const out: Token[] = [];
  for (const e of events) {
    if (e.kind === 'ping' || e.kind === 'pong') {
      if (out[out.length - 1] !== 'ka') out.push('ka');
    } else if (e.kind === 'record') out.push(`record:${e.bytes.toString('hex')}`);
    else out.push(`message:${serialize(e.message).toString('hex')}`);
  }
  return out;
}

function exact(events: FramerEvent[]): string[] {
  return events.map((e) => (e.kind === 'record' ? `record:${e.bytes.length}` : e.kind === 'message' ? 'message' : e.kind));
}

/** A stream with every kind of unit, and the token sequence expected from it. */
function stream(): { bytes: Buffer; expected: Token[]; records: Buffer[]; pair: ReturnType<typeof saPair> } {
  const pair = saPair();
  const r1 = pair.a.ep.protect(invite(), PEER);
  const r2 = pair.a.ep.protect(ok(), PEER);
  const r3 = pair.a.ep.protect(invite({ body: '' }), PEER);
  const m1 = serialize(invite());
  // A SIP message whose body contains 0xD3 and CRLFs: only Content-Length frames it.
  const binBody = Buffer.from([0xd3, 0x11, 0x0d, 0x0a, 0x0d, 0x0a, 0xd3, 0x00]);
  const m2 = Buffer.concat([Buffer.from(`MESSAGE sip:bob@sa.example SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKm2\r\nCall-ID: m2\r\nCSeq: 1 MESSAGE\r\nContent-Type: application/octet-stream\r\nContent-Length: ${binBody.length}\r\n\r\n`), binBody]);
  const CRLF2 = Buffer.from('\r\n\r\n');
  const CRLF = Buffer.from('\r\n');
  const parts: [Buffer, Token | undefined][] = [
    [CRLF2, 'ka'], [m1, undefined], [r1, undefined], [CRLF, 'ka'], [r2, undefined], [r3, undefined], [m2, undefined], [CRLF2, 'ka'], [r1, undefined],
  ];
  const expected: Token[] = [];
  for (const [b, t] of parts) {
    if (t) expected.push(t);
    else if (b[0] === 0xd3) expected.push(`record:${b.toString('hex')}`);
    else expected.push(`message:${serialize(parseDatagram(b)).toString('hex')}`);
  }
  return { bytes: Buffer.concat(parts.map(([b]) => b)), expected, records: [r1, r2, r3], pair };
}

describe('record framing primitives', () => {
  it('isRecordStart and recordFrameLength', () => {
    const r = allocRecord(SA_ID, 0, 0, 300);
    assert.equal(isRecordStart(r), true);
    assert.equal(isRecordStart(Buffer.from('INVITE')), false);
    assert.equal(isRecordStart(Buffer.alloc(0)), false);
    assert.equal(isRecordStart(Buffer.concat([Buffer.from('ab'), r]), 2), true);
    assert.equal(isRecordStart(r, r.length), false);
    assert.equal(recordFrameLength(r), RECORD_HEADER_LENGTH + 300);
    assert.equal(recordFrameLength(r.subarray(0, 23)), undefined, 'header incomplete');
    assert.equal(recordFrameLength(r.subarray(0, 24)), 324, 'the header alone suffices');
    assert.equal(recordFrameLength(Buffer.concat([Buffer.alloc(5), r]), 5), 324);
    assert.equal(recordFrameLength(Buffer.concat([Buffer.alloc(5), r.subarray(0, 23)]), 5), undefined);
  });
});

describe('StreamFramer record events', () => {
  it('the whole stream in one chunk: exact events in order', () => {
    const { bytes, expected } = stream();
    const f = new StreamFramer();
    const ev = f.push(bytes);
    assert.deepEqual(tokens(ev), expected);
    assert.deepEqual(exact(ev).map((s) => s.replace(/:\d+$/, '')), ['ping', 'message', 'record', 'pong', 'record', 'record', 'message', 'ping', 'record']);
    assert.equal(f.buffered, 0);
  });

  it('split in two at every byte boundary', () => {
    const { bytes, expected } = stream();
    for (let k = 0; k <= bytes.length; k++) {
      const f = new StreamFramer();
      const ev = [...f.push(bytes.subarray(0, k)), ...f.push(bytes.subarray(k))];
      assert.deepEqual(tokens(ev), expected, `split at ${k}`);
      assert.equal(f.buffered, 0, `split at ${k}`);
    }
  });

  it('one byte at a time', () => {
    const { bytes, expected } = stream();
    const f = new StreamFramer();
    const ev: FramerEvent[] = [];
    for (let i = 0; i < bytes.length; i++) ev.push(...f.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(tokens(ev), expected);
  });

  it('sampled three-way splits', () => {
    const { bytes, expected } = stream();
    for (let a = 0; a < bytes.length; a += 37) {
      for (let b = a; b <= bytes.length; b += 53) {
        const f = new StreamFramer();
        const ev = [...f.push(bytes.subarray(0, a)), ...f.push(bytes.subarray(a, b)), ...f.push(bytes.subarray(b))];
        assert.deepEqual(tokens(ev), expected, `split at ${a}, ${b}`);
      }
    }
  });

  it('a record is not delivered before its last byte, and is a copy', () => {
    const { records } = stream();
    const r = records[0]!;
    const f = new StreamFramer();
    assert.deepEqual(f.push(r.subarray(0, r.length - 1)), []);
    assert.equal(f.buffered, r.length - 1);
    const ev = f.push(r.subarray(r.length - 1));
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.kind, 'record');
    const bytes = (ev[0] as { bytes: Buffer }).bytes;
    assert.deepEqual(bytes, r);
    // Fed in one chunk, the framer works on the caller's buffer itself: the event must still own its bytes.
    const whole = Buffer.from(r);
    const ev2 = new StreamFramer().push(whole);
    whole.fill(0);
    assert.deepEqual((ev2[0] as { bytes: Buffer }).bytes, r, 'not a view of the caller buffer');
  });

  it('a record whose sealed part is empty is framed as 24 bytes and the stream stays in sync', () => {
    const empty = allocRecord(SA_ID, 0, 0, 0);
    const m = serialize(invite());
    const ev = new StreamFramer().push(Buffer.concat([empty, m]));
    assert.deepEqual(exact(ev), ['record:24', 'message']);
  });

  it('framed records open at the receiving endpoint', () => {
    const { bytes, pair } = stream();
    const f = new StreamFramer();
    let opened = 0;
    for (const e of f.push(bytes)) {
      if (e.kind !== 'record') continue;
      if (pair.b.ep.openRecord(e.bytes, PEER)) opened++;
    }
    assert.equal(opened, 3, 'three distinct records');
    assert.equal(pair.b.ep.counters.faults.replay, 1, 'the repeated one is a replay');
  });
});

describe('StreamReader', () => {
  it('delivers the same events as the framer, split at every byte boundary', () => {
    const { bytes, expected } = stream();
    for (let k = 0; k <= bytes.length; k += 1) {
      const r = new StreamReader(DEFAULT_LIMITS);
      const a = r.push(bytes.subarray(0, k));
      const b = r.push(bytes.subarray(k));
      assert.equal(a.failure, undefined);
      assert.equal(b.failure, undefined);
      assert.deepEqual(tokens([...a.events, ...b.events]), expected, `split at ${k}`);
      assert.equal(r.buffered, 0);
    }
  });

  it('on a framing failure, hands up the records and messages before it', () => {
    const { records } = stream();
    const m = serialize(invite());
    const broken = Buffer.from('INVITE sip:x SIP/2.0\r\nThis is not a header\r\nContent-Length: 0\r\n\r\n');
    const r = new StreamReader(DEFAULT_LIMITS);
    const res = r.push(Buffer.concat([records[0]!, Buffer.from('\r\n'), m, records[1]!, broken]));
    assert.ok(res.failure, 'framing failed');
    assert.deepEqual(exact(res.events).map((s) => s.replace(/:\d+$/, '')), ['record', 'pong', 'message', 'record']);
    assert.deepEqual((res.events[0] as { bytes: Buffer }).bytes, records[0]);
    assert.deepEqual((res.events[3] as { bytes: Buffer }).bytes, records[1]);
    assert.ok(res.failure.head?.toString('latin1').startsWith('INVITE sip:x SIP/2.0'));
  });

  it('recovers a record that started in an earlier chunk', () => {
    const { records } = stream();
    const rec = records[1]!;
    const broken = Buffer.from('BYE sip:x SIP/2.0\r\nnot a header line\r\n\r\n');
    for (const k of [1, 10, 23, 24, 25, rec.length - 1]) {
      const r = new StreamReader(DEFAULT_LIMITS);
      const first = r.push(Buffer.concat([serialize(ok()), rec.subarray(0, k)]));
      assert.deepEqual(exact(first.events), ['message']);
      const res = r.push(Buffer.concat([rec.subarray(k), broken]));
      assert.ok(res.failure, `k=${k}`);
      assert.equal(res.events.length, 1, `k=${k}`);
      assert.deepEqual((res.events[0] as { bytes: Buffer }).bytes, rec, `k=${k}`);
    }
  });
});
