/**
 * The SA handshake (src/security/sa/handshake.ts): Noise XX in three REGISTER bodies, the
 * generation-0 keys it yields, the prologue binding of the SIP context and frame checks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { aeadOpen, aeadSeal } from '../../../src/crypto/aead-rules.js';
import { generateNoiseKeyPair } from '../../../src/crypto/noise/index.js';
import { HandshakeError } from '../../../src/errors.js';
import {
  decodeHandshakeFrame, encodeHandshakeFrame, HANDSHAKE_CIPHERS, HandshakeInitiator, HandshakeResponder, handshakePrologue,
  recordNonce, tokenProof, type HandshakeCipher,
} from '../../../src/security/sa/index.js';
import { CALL_ID, DEVICE_KEY, runHandshake, SA_ID, SECURITY_CLIENT, SERVER_KEY } from './fixtures.js';

function isHandshakeError(e: unknown): boolean {
  assert.ok(e instanceof HandshakeError, String(e));
  return true;
}

function initiator(cipher: HandshakeCipher = 1, over: { callId?: string; securityClient?: string } = {}): HandshakeInitiator {
  return new HandshakeInitiator({ staticKey: DEVICE_KEY, cipher, callId: over.callId ?? CALL_ID, securityClient: over.securityClient ?? SECURITY_CLIENT });
}

function answer(step1: Buffer, over: { callId?: string; securityClient?: string; saId?: Buffer } = {}): HandshakeResponder {
  return HandshakeResponder.answer(step1, {
    staticKey: SERVER_KEY, saId: over.saId ?? SA_ID, callId: over.callId ?? CALL_ID, securityClient: over.securityClient ?? SECURITY_CLIENT,
  });
}

describe('full handshake', () => {
  for (const cipher of [1, 2] as const) {
    it(`cipher ${cipher} (${HANDSHAKE_CIPHERS[cipher].noise}): both sides agree`, () => {
      const payload = Buffer.from('REGISTER sip:sa.example SIP/2.0\r\nAuthorization: Digest ...\r\n\r\n');
      const ini = initiator(cipher);
      const s1 = ini.first();
      const f1 = decodeHandshakeFrame(s1);
      assert.deepEqual([f1.step, f1.cipher, f1.saId.toString('hex')], [1, cipher, '0000000000000000']);
      assert.equal(f1.noise.length, 32, 'step 1 is just e');
      const resp = HandshakeResponder.answer(s1, { staticKey: SERVER_KEY, saId: SA_ID, callId: CALL_ID, securityClient: SECURITY_CLIENT, payload: Buffer.from('Realm: sa.example\r\n') });
      assert.equal(resp.cipher, cipher);
      assert.deepEqual(resp.saId, SA_ID);
      const f2 = decodeHandshakeFrame(resp.secondBody);
      assert.deepEqual([f2.step, f2.cipher], [2, cipher]);
      assert.deepEqual(f2.saId, SA_ID);
      const second = ini.second(resp.secondBody);
      assert.deepEqual(second.serverStatic, SERVER_KEY.publicKey);
      assert.deepEqual(second.saId, SA_ID);
      assert.deepEqual(second.hash, resp.hashAfterSecond, 'the digest nonce is the same on both sides');
      assert.equal(second.payload.toString(), 'Realm: sa.example\r\n');
      const third = ini.third(payload);
      const f3 = decodeHandshakeFrame(third.body);
      assert.deepEqual([f3.step, f3.cipher], [3, cipher]);
      assert.deepEqual(f3.saId, SA_ID);
      assert.equal(third.body.indexOf('Authorization'), -1, 'the step-3 payload is encrypted');
      const done = resp.third(third.body);
      assert.deepEqual(done.payload, payload);

      const i = third.result;
      const r = done.result;
      assert.deepEqual(i.saId, SA_ID);
      assert.deepEqual(r.saId, SA_ID);
      assert.deepEqual(i.handshakeHash, r.handshakeHash);
      assert.equal(i.handshakeHash.length, 32);
      assert.notDeepEqual(i.handshakeHash, second.hash, 'the final hash covers step 3');
      assert.deepEqual(i.remoteStatic, SERVER_KEY.publicKey);
      assert.deepEqual(r.remoteStatic, DEVICE_KEY.publicKey);

      const rule = HANDSHAKE_CIPHERS[cipher].rule;
      for (const g of [i.generation, r.generation]) {
        assert.equal(g.number, 0);
        assert.equal(g.rule.name, rule);
        assert.equal(g.sendKey.length, 32);
      }
      assert.deepEqual(i.generation.sendKey, r.generation.receiveKey);
      assert.deepEqual(i.generation.receiveKey, r.generation.sendKey);
      assert.notDeepEqual(i.generation.sendKey, i.generation.receiveKey);
      // Seal on one side, open on the other, both directions.
      const aad = Buffer.from('hdr');
      const m1 = aeadSeal(i.generation.rule, i.generation.sendKey, recordNonce(0), aad, Buffer.from('up'));
      assert.equal(aeadOpen(r.generation.rule, r.generation.receiveKey, recordNonce(0), aad, m1)?.toString(), 'up');
      const m2 = aeadSeal(r.generation.rule, r.generation.sendKey, recordNonce(0), aad, Buffer.from('down'));
      assert.equal(aeadOpen(i.generation.rule, i.generation.receiveKey, recordNonce(0), aad, m2)?.toString(), 'down');
      assert.equal(aeadOpen(i.generation.rule, i.generation.receiveKey, recordNonce(0), aad, m1), undefined, 'directions differ');
    });
  }

  it('every handshake gives new keys and a new hash (ephemeral keys)', () => {
    const x = runHandshake();
    const y = runHandshake();
    assert.notDeepEqual(x.initiator.generation.sendKey, y.initiator.generation.sendKey);
    assert.notDeepEqual(x.initiator.handshakeHash, y.initiator.handshakeHash);
    assert.deepEqual(x.initiator.remoteStatic, y.initiator.remoteStatic);
  });

  it('the responder learns the device key it did not know beforehand', () => {
    const other = generateNoiseKeyPair();
    const ini = new HandshakeInitiator({ staticKey: other, callId: CALL_ID, securityClient: SECURITY_CLIENT });
    const resp = answer(ini.first());
    ini.second(resp.secondBody);
    assert.deepEqual(resp.third(ini.third(Buffer.alloc(0)).body).result.remoteStatic, other.publicKey);
  });

  it('third() before second() is refused', () => {
    assert.throws(() => initiator().third(Buffer.alloc(0)), isHandshakeError);
  });
});

describe('prologue binding of the SIP context', () => {
  it('the prologue is SIPHER-SA/1 NUL Call-ID NUL Security-Client', () => {
    assert.deepEqual(handshakePrologue('c@h', 'sipher-sa;v=1'), Buffer.from('SIPHER-SA/1\0c@h\0sipher-sa;v=1'));
  });

  const variants: [string, { callId?: string; securityClient?: string }][] = [
    ['another Call-ID', { callId: `${CALL_ID}x` }],
    ['a downgraded Security-Client', { securityClient: 'sipher-sa;v=1;rules="aes-128-gcm";ranges="whole"' }],
    ['the fields moved across the separator', { callId: `${CALL_ID}\0sipher-sa`, securityClient: SECURITY_CLIENT.slice('sipher-sa'.length) }],
  ];
  for (const cipher of [1, 2] as const) {
    for (const [what, over] of variants) {
      it(`cipher ${cipher}: ${what} on the responder side makes step 2 fail at the device`, () => {
        const ini = initiator(cipher);
        const resp = answer(ini.first(), over);
        assert.throws(() => ini.second(resp.secondBody), isHandshakeError);
      });
      it(`cipher ${cipher}: ${what} on the device side makes step 2 fail there too`, () => {
        const ini = initiator(cipher, over);
        const resp = answer(ini.first());
        assert.throws(() => ini.second(resp.secondBody), isHandshakeError);
      });
    }
  }

  it('a step 3 from another handshake fails at the responder', () => {
    const a = initiator();
    const ra = answer(a.first());
    a.second(ra.secondBody);
    const b = initiator();
    const rb = answer(b.first());
    b.second(rb.secondBody);
    assert.throws(() => ra.third(b.third(Buffer.from('x')).body), isHandshakeError);
  });

  it('a tampered step 3 fails at the responder', () => {
    const ini = initiator();
    const resp = answer(ini.first());
    ini.second(resp.secondBody);
    const body = Buffer.from(ini.third(Buffer.from('payload')).body);
    body[body.length - 1]! ^= 1;
    assert.throws(() => resp.third(body), isHandshakeError);
  });
});

describe('handshake frames', () => {
  const noise = Buffer.alloc(40, 7);

  it('encode/decode round-trip', () => {
    const f = { step: 2 as const, cipher: 2 as const, saId: SA_ID, noise };
    const b = encodeHandshakeFrame(f);
    assert.equal(b.length, 11 + 40);
    assert.deepEqual([b[0], b[1], b[2]], [1, 2, 2]);
    assert.deepEqual(decodeHandshakeFrame(b), f);
  });

  it('malformed frames → HandshakeError', () => {
    const good = encodeHandshakeFrame({ step: 1, cipher: 1, saId: Buffer.alloc(8), noise: Buffer.alloc(32) });
    assert.doesNotThrow(() => decodeHandshakeFrame(good));
    const set = (i: number, v: number): Buffer => {
      const b = Buffer.from(good);
      b[i] = v;
      return b;
    };
    const bad: [string, Buffer][] = [
      ['version 0', set(0, 0)], ['version 2', set(0, 2)],
      ['step 0', set(1, 0)], ['step 4', set(1, 4)], ['step 255', set(1, 255)],
      ['cipher 0', set(2, 0)], ['cipher 3', set(2, 3)],
      ['short body', good.subarray(0, good.length - 1)], ['empty', Buffer.alloc(0)], ['header only', good.subarray(0, 11)],
      ['too long', Buffer.concat([good, Buffer.alloc(65_535)])],
    ];
    for (const [what, b] of bad) assert.throws(() => decodeHandshakeFrame(b), isHandshakeError, what);
  });

  it('the wrong step at each stage → HandshakeError', () => {
    const ini = initiator();
    const s1 = ini.first();
    const resp = answer(s1);
    assert.throws(() => answer(resp.secondBody), isHandshakeError, 'step 2 given to answer()');
    assert.throws(() => initiator().second(s1), isHandshakeError, 'step 1 given to second()');
    const two = initiator(2);
    assert.throws(() => two.second(answer(initiator(1).first()).secondBody), isHandshakeError, 'cipher changed');
    ini.second(resp.secondBody);
    const s3 = ini.third(Buffer.alloc(0)).body;
    assert.throws(() => resp.third(s1), isHandshakeError, 'step 1 given to third()');
    const cipherChanged = Buffer.from(s3);
    cipherChanged[2] = 2;
    assert.throws(() => resp.third(cipherChanged), isHandshakeError, 'cipher changed in step 3');
  });

  it('step 3 with another SA id → HandshakeError; with the right one it completes', () => {
    const ini = initiator();
    const resp = answer(ini.first());
    ini.second(resp.secondBody);
    const s3 = ini.third(Buffer.from('p')).body;
    for (let i = 3; i < 11; i++) {
      const b = Buffer.from(s3);
      b[i]! ^= 1;
      assert.throws(() => resp.third(b), isHandshakeError, `id byte ${i - 3}`);
    }
    assert.equal(resp.third(s3).payload.toString(), 'p');
  });
});

describe('tokenProof', () => {
  const secretHash = createHash('sha256').update('enrolment-token-secret').digest();

  it('is HMAC-SHA-256, deterministic, and bound to the handshake hash and the secret', () => {
    const h1 = runHandshake().hashAfterSecond;
    const h2 = runHandshake().hashAfterSecond;
    const p1 = tokenProof(secretHash, h1);
    assert.equal(p1.length, 32);
    assert.deepEqual(tokenProof(secretHash, h1), p1);
    assert.notDeepEqual(tokenProof(secretHash, h2), p1);
    const otherSecret = createHash('sha256').update('another-token').digest();
    assert.notDeepEqual(tokenProof(otherSecret, h1), p1);
  });

  it('matches RFC 4231 test case 2 (HMAC-SHA-256 with key "Jefe")', () => {
    assert.equal(
      tokenProof(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
