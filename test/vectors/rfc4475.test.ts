/**
 * RFC 4475 (SIP Torture Test Messages) as test vectors: valid messages parse and
 * round-trip; invalid ones are rejected by the parser or by whole-message validation with a
 * reason; "parse-and-respond" ones must parse so the element can answer (the answers
 * themselves are checked against a running server in test/integration/server/torture.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseDatagram, serialize, validateMessage, SipRequest, SipResponse, type SipMessage } from '../../src/sip/index.js';
import { SipherError } from '../../src/errors.js';
import { readVector } from '../support/vectors.js';

interface Entry {
  name: string; file: string; expect: 'parse' | 'reject' | 'parse-and-respond'; kind: 'request' | 'response';
  method?: string; callId?: string | null; cseq?: { seq: number | string; method: string }; viaCount?: number; bodyLength?: number;
  fault?: string; sha256: string; response?: number;
}

const manifest = JSON.parse(readVector('rfc4475/manifest.json').toString('utf8')) as { messages: Entry[] };

function facts(m: SipMessage): unknown {
  return {
    start: m instanceof SipRequest ? `${m.method} ${m.uri}` : `${(m as SipResponse).status}`,
    callId: m.get('call-id'),
    cseq: m.get('cseq'),
    via: m.getAll('via'),
    body: m.body.toString('latin1'),
    headers: m.headers.filter((h) => h.key !== 'content-length').length,
  };
}

describe('RFC 4475 torture messages', () => {
  for (const e of manifest.messages) {
    const buf = readVector(`rfc4475/${e.file}`);
    it(`${e.name}: bytes are the RFC's (sha256)`, () => {
      assert.equal(createHash('sha256').update(buf).digest('hex'), e.sha256);
    });
    if (e.expect === 'parse') {
      it(`${e.name}: valid message parses, validates and round-trips`, () => {
        const m = parseDatagram(buf);
        validateMessage(m);
        if (e.method) assert.equal((m as SipRequest).method, e.method);
        if (typeof e.callId === 'string') assert.equal(m.callId(), e.callId);
        if (e.cseq && typeof e.cseq.seq === 'number') assert.deepEqual(m.cseq(), { seq: e.cseq.seq, method: e.cseq.method });
        if (e.viaCount !== undefined) assert.equal(m.vias().length, e.viaCount);
        if (e.bodyLength !== undefined) assert.equal(m.body.length, e.bodyLength);
        const again = parseDatagram(serialize(m));
        validateMessage(again);
        assert.deepEqual(facts(again), facts(m));
      });
    } else if (e.expect === 'reject') {
      it(`${e.name}: invalid message is rejected (${e.fault ?? ''})`, () => {
        assert.throws(() => validateMessage(parseDatagram(buf)), (err: unknown) => {
          assert.ok(err instanceof SipherError, String(err));
          assert.ok(err.sipStatus === 400 || err.sipStatus === 513);
          assert.ok(err.sipReason && err.sipReason.length > 0);
          return true;
        });
      });
    } else {
      it(`${e.name}: parses far enough for the element to answer ${e.response ?? ''}`, () => {
        const m = parseDatagram(buf);
        assert.ok(m.isRequest === (e.kind === 'request'));
        if (typeof e.callId === 'string') assert.equal(m.get('call-id'), e.callId);
      });
    }
  }
});
