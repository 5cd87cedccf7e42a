/**
 * HandshakeState with generated keys: every supported pattern (one-way §7.4, interactive §7.5)
 * with and without psk modifiers (§9) completes and both parties agree; the XX API in detail;
 * protocol-name parsing (§8) and option validation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateNoiseKeyPair, handshakePattern, HandshakeState, NOISE_PATTERN_NAMES, noiseKeyPairFromPrivate, parseProtocolName,
  type HandshakeOptions, type NoiseKeyPair,
} from '../../../src/crypto/noise/index.js';
import { HandshakeError } from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/util/random.js';

const EMPTY = Buffer.alloc(0);

/** Options for both parties of `protocolName` with fresh statics and PSKs. */
function pair(protocolName: string, opts: { prologue?: Buffer; generator?: () => NoiseKeyPair } = {}): [HandshakeOptions, HandshakeOptions, NoiseKeyPair, NoiseKeyPair] {
  const p = parseProtocolName(protocolName).pattern;
  const si = generateNoiseKeyPair();
  const sr = generateNoiseKeyPair();
  const psks = Array.from({ length: p.pskCount }, (_, i) => Buffer.alloc(32, i + 1));
  const common = { protocolName, prologue: opts.prologue, psks, generateKeyPair: opts.generator };
  return [
    { ...common, initiator: true, s: si, rs: p.responderPreMessage.includes('s') ? sr.publicKey : undefined },
    { ...common, initiator: false, s: sr, rs: p.initiatorPreMessage.includes('s') ? si.publicKey : undefined },
    si,
    sr,
  ];
}

/** Runs the handshake to completion, checking every payload arrives. */
function handshake(i: HandshakeState, r: HandshakeState): void {
  let n = 0;
  while (!i.isComplete()) {
    const [a, b] = i.isMyTurn() ? [i, r] : [r, i];
    assert.equal(b.isMyTurn(), false);
    const payload = Buffer.from(`payload ${n++}`);
    assert.deepEqual(b.readMessage(a.writeMessage(payload)), payload);
  }
  assert.equal(r.isComplete(), true);
}

describe('every pattern and psk modifier completes with generated keys', () => {
  const names: string[] = [];
  for (const base of NOISE_PATTERN_NAMES) {
    const count = handshakePattern(base).messages.length;
    names.push(base);
    for (let k = 0; k <= count; k++) names.push(`${base}psk${k}`);
  }
  names.push('NNpsk0+psk2', 'XXpsk0+psk3', 'IKpsk1+psk2', 'NXpsk0+psk1+psk2');
  for (const name of names) {
    for (const suite of ['25519_ChaChaPoly_SHA256', '25519_AESGCM_SHA512', '25519_ChaChaPoly_BLAKE2s', '25519_AESGCM_BLAKE2b']) {
      if (!name.includes('psk') && !name.startsWith('X') && suite !== '25519_ChaChaPoly_SHA256' && suite !== '25519_AESGCM_SHA512') continue;
      const protocolName = `Noise_${name}_${suite}`;
      it(protocolName, () => {
        const [io, ro, si, sr] = pair(protocolName, { prologue: Buffer.from('prologue') });
        const i = new HandshakeState(io);
        const r = new HandshakeState(ro);
        handshake(i, r);
        assert.deepEqual(i.handshakeHash(), r.handshakeHash());
        const pattern = i.pattern;
        const iSends = pattern.messages.some((m, idx) => idx % 2 === 0 && m.includes('s')) || pattern.initiatorPreMessage.includes('s');
        const rSends = pattern.messages.some((m, idx) => idx % 2 === 1 && m.includes('s')) || pattern.responderPreMessage.includes('s');
        if (iSends) assert.deepEqual(r.remoteStaticKey(), si.publicKey);
        if (rSends) assert.deepEqual(i.remoteStaticKey(), sr.publicKey);
        const msg = Buffer.from('transport');
        assert.deepEqual(r.split().receive.decryptWithAd(EMPTY, i.split().send.encryptWithAd(EMPTY, msg)), msg);
        if (!pattern.oneWay) assert.deepEqual(i.split().receive.decryptWithAd(EMPTY, r.split().send.encryptWithAd(EMPTY, msg)), msg);
      });
    }
  }
});

describe('XX with random keys', () => {
  it('completes, both sides derive the same keys, and remoteStaticKey() is the peer static', () => {
    const si = generateNoiseKeyPair();
    const sr = generateNoiseKeyPair();
    const protocolName = 'Noise_XX_25519_ChaChaPoly_SHA256';
    const i = new HandshakeState({ protocolName, initiator: true, s: si });
    const r = new HandshakeState({ protocolName, initiator: false, s: sr });
    assert.equal(i.isInitiator, true);
    assert.equal(r.isInitiator, false);
    assert.equal(i.cipherName, 'ChaChaPoly');
    assert.equal(i.hashName, 'SHA256');
    assert.equal(i.isMyTurn(), true);
    assert.equal(r.isMyTurn(), false);
    assert.equal(i.remoteStaticKey(), undefined);
    assert.equal(r.remoteEphemeralKey(), undefined);

    r.readMessage(i.writeMessage());
    assert.equal(r.remoteEphemeralKey()?.length, 32);
    assert.equal(r.remoteStaticKey(), undefined);
    i.readMessage(r.writeMessage(Buffer.from('responder hello')));
    assert.deepEqual(i.remoteStaticKey(), sr.publicKey);
    assert.equal(i.isComplete(), false);
    assert.equal(r.readMessage(i.writeMessage(Buffer.from('initiator finish'))).toString(), 'initiator finish');
    assert.deepEqual(r.remoteStaticKey(), si.publicKey);
    assert.equal(i.isComplete(), true);
    assert.equal(r.isComplete(), true);
    assert.equal(i.isMyTurn(), false);
    assert.equal(r.isMyTurn(), false);

    assert.deepEqual(i.handshakeHash(), r.handshakeHash());
    assert.equal(i.handshakeHash().length, 32);
    const a = i.split();
    const b = r.split();
    assert.equal(i.split(), a, 'split() is idempotent (no nonce reuse)');
    assert.equal(a.initiatorToResponderKey.length, 32);
    assert.deepEqual(a.initiatorToResponderKey, b.initiatorToResponderKey);
    assert.deepEqual(a.responderToInitiatorKey, b.responderToInitiatorKey);
    assert.notDeepEqual(a.initiatorToResponderKey, a.responderToInitiatorKey);
    for (let n = 0; n < 5; n++) {
      assert.equal(b.receive.decryptWithAd(EMPTY, a.send.encryptWithAd(EMPTY, Buffer.from(`i${n}`))).toString(), `i${n}`);
      assert.equal(a.receive.decryptWithAd(EMPTY, b.send.encryptWithAd(EMPTY, Buffer.from(`r${n}`))).toString(), `r${n}`);
    }
  });

  it('mismatched prologues fail the handshake (Noise §6)', () => {
    const [io, ro] = pair('Noise_XX_25519_AESGCM_SHA256', { prologue: Buffer.from('a') });
    const i = new HandshakeState(io);
    const r = new HandshakeState({ ...ro, prologue: Buffer.from('b') });
    r.readMessage(i.writeMessage());
    assert.throws(() => i.readMessage(r.writeMessage()), HandshakeError);
  });

  it('the injected generator supplies the ephemerals', () => {
    const rnd = createSeededRandom(7);
    let calls = 0;
    const gen = (): NoiseKeyPair => {
      calls++;
      return noiseKeyPairFromPrivate(rnd.bytes(32));
    };
    const run = (): Buffer => {
      const [io, ro] = pair('Noise_NN_25519_ChaChaPoly_SHA256', { generator: gen });
      const i = new HandshakeState(io);
      const r = new HandshakeState(ro);
      const m1 = i.writeMessage();
      r.readMessage(m1);
      return m1;
    };
    const first = run();
    assert.equal(calls, 1);
    assert.deepEqual(first.subarray(0, 32), noiseKeyPairFromPrivate(createSeededRandom(7).bytes(32)).publicKey);
  });
});

describe('key helpers', () => {
  it('noiseKeyPairFromPrivate derives the RFC 7748 §6.1 public key', () => {
    const kp = noiseKeyPairFromPrivate(Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'));
    assert.equal(kp.publicKey.toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  });
  it('generateNoiseKeyPair gives distinct 32-byte pairs', () => {
    const a = generateNoiseKeyPair();
    const b = generateNoiseKeyPair();
    assert.equal(a.privateKey.length, 32);
    assert.equal(a.publicKey.length, 32);
    assert.notDeepEqual(a.privateKey, b.privateKey);
  });
  it('a wrong key length is a RangeError', () => {
    assert.throws(() => noiseKeyPairFromPrivate(Buffer.alloc(31)), RangeError);
  });
});

describe('protocol names (§8) and options', () => {
  it('parses pattern, modifiers, cipher and hash', () => {
    const p = parseProtocolName('Noise_XXpsk3_25519_AESGCM_SHA256');
    assert.equal(p.pattern.baseName, 'XX');
    assert.equal(p.pattern.pskCount, 1);
    assert.deepEqual(p.pattern.messages.at(-1), ['s', 'se', 'psk']);
    assert.deepEqual(parseProtocolName('Noise_NNpsk0+psk2_25519_ChaChaPoly_SHA512').pattern.messages, [['psk', 'e'], ['e', 'ee', 'psk']]);
    assert.equal(p.cipher.name, 'AESGCM');
    assert.equal(p.hash.name, 'SHA256');
  });
  const bad = [
    'Noise_XX_448_ChaChaPoly_SHA256', 'Noise_XX_25519_AESGCM128_SHA256', 'Noise_XX_25519_ChaChaPoly_SHA3', 'Noise_ZZ_25519_ChaChaPoly_SHA256',
    'Noise_NNpsk3_25519_ChaChaPoly_SHA256', 'Noise_NNpsk0+psk0_25519_ChaChaPoly_SHA256', 'Noise_XXfallback_25519_ChaChaPoly_SHA256',
    'Noise_XX_25519_ChaChaPoly', 'NoiseX_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_25519_ChaChaPoly_SHA256_extra', '',
  ];
  for (const name of bad) {
    it(`rejects ${JSON.stringify(name)} with RangeError`, () => {
      assert.throws(() => new HandshakeState({ protocolName: name, initiator: true, s: generateNoiseKeyPair() }), RangeError);
    });
  }
  it('missing required keys are TypeErrors; wrong lengths and PSK counts are RangeErrors', () => {
    const s = generateNoiseKeyPair();
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256', initiator: true }), TypeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_NK_25519_ChaChaPoly_SHA256', initiator: true }), TypeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_NK_25519_ChaChaPoly_SHA256', initiator: true, rs: Buffer.alloc(31) }), RangeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256', initiator: true, s, rs: s.publicKey }), RangeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_NNpsk0_25519_ChaChaPoly_SHA256', initiator: true }), RangeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_NNpsk0_25519_ChaChaPoly_SHA256', initiator: true, psks: [Buffer.alloc(16)] }), RangeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_NN_25519_ChaChaPoly_SHA256', initiator: true, psks: [Buffer.alloc(32)] }), RangeError);
    assert.throws(() => new HandshakeState({ protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256', initiator: true, s: { publicKey: Buffer.alloc(32), privateKey: Buffer.alloc(5) } }), RangeError);
  });
});
