/**
 * Hostile and mistaken input: tampered, truncated, oversized and garbage messages, use out of
 * turn, wrong PSKs, invalid public keys and exhausted nonces. Every failure caused by the peer's
 * bytes or by out-of-order use is a HandshakeError; nothing else escapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HandshakeState, MAX_NOISE_MESSAGE, NOISE_MAX_NONCE, noiseKeyPairFromPrivate, parseProtocolName,
  type HandshakeOptions,
} from '../../../src/crypto/noise/index.js';
import { HandshakeError } from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/util/random.js';

const EMPTY = Buffer.alloc(0);
const isHandshakeError = (e: unknown): boolean => e instanceof HandshakeError && e.code === 'SIPHER_ERR_HANDSHAKE';

/** Fixed keys so runs are reproducible. */
const SI = noiseKeyPairFromPrivate(Buffer.alloc(32, 1));
const SR = noiseKeyPairFromPrivate(Buffer.alloc(32, 2));
const PSK = Buffer.alloc(32, 9);

function options(protocolName: string, initiator: boolean, psk: Buffer = PSK): HandshakeOptions {
  const p = parseProtocolName(protocolName).pattern;
  const rnd = createSeededRandom(initiator ? 11 : 22);
  return {
    protocolName,
    initiator,
    s: initiator ? SI : SR,
    rs: initiator ? (p.responderPreMessage.includes('s') ? SR.publicKey : undefined) : p.initiatorPreMessage.includes('s') ? SI.publicKey : undefined,
    psks: Array.from({ length: p.pskCount }, () => psk),
    generateKeyPair: () => noiseKeyPairFromPrivate(rnd.bytes(32)),
  };
}

/** The honest messages of a handshake of `protocolName`. */
function transcript(protocolName: string): Buffer[] {
  const i = new HandshakeState(options(protocolName, true));
  const r = new HandshakeState(options(protocolName, false));
  const out: Buffer[] = [];
  while (!i.isComplete()) {
    const [a, b] = i.isMyTurn() ? [i, r] : [r, i];
    const m = a.writeMessage(Buffer.from('payload'));
    out.push(m);
    b.readMessage(m);
  }
  return out;
}

/**
 * Replays the handshake with message `k` replaced by `tamper(message)` as delivered to the
 * receiver, carrying on (the sender and the receiver each see their own view) through the
 * handshake and one transport message each way. Returns what was thrown first, or undefined.
 */
function firstFailure(protocolName: string, k: number, tamper: (m: Buffer) => Buffer, respPsk?: Buffer): unknown {
  const i = new HandshakeState(options(protocolName, true));
  const r = new HandshakeState(options(protocolName, false, respPsk));
  try {
    let n = 0;
    while (!i.isComplete() || !r.isComplete()) {
      const [a, b] = n % 2 === 0 ? [i, r] : [r, i];
      const m = a.writeMessage(Buffer.from('payload'));
      b.readMessage(n === k ? tamper(m) : m);
      n++;
    }
    const x = i.split().send.encryptWithAd(EMPTY, Buffer.from('t'));
    r.split().receive.decryptWithAd(EMPTY, x);
    if (!i.pattern.oneWay) i.split().receive.decryptWithAd(EMPTY, r.split().send.encryptWithAd(EMPTY, Buffer.from('t')));
  } catch (e) {
    return e;
  }
  return undefined;
}

const PROTOCOLS = [
  'Noise_N_25519_ChaChaPoly_SHA256', 'Noise_K_25519_AESGCM_SHA256', 'Noise_X_25519_ChaChaPoly_SHA512',
  'Noise_NN_25519_ChaChaPoly_SHA256', 'Noise_NK_25519_AESGCM_SHA256', 'Noise_KK_25519_ChaChaPoly_BLAKE2s',
  'Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_25519_AESGCM_SHA512', 'Noise_IK_25519_ChaChaPoly_SHA256', 'Noise_IX_25519_AESGCM_BLAKE2b',
  'Noise_NNpsk0_25519_ChaChaPoly_SHA256', 'Noise_XXpsk3_25519_AESGCM_SHA256', 'Noise_IKpsk2_25519_ChaChaPoly_SHA256',
];

describe('a flipped bit in any handshake message fails the handshake with HandshakeError', () => {
  for (const name of PROTOCOLS) {
    it(name, () => {
      const msgs = transcript(name);
      msgs.forEach((m, k) => {
        for (let byte = 0; byte < m.length; byte += Math.max(1, Math.floor(m.length / 17))) {
          for (const bit of [0, 7]) {
            const e = firstFailure(name, k, (x) => {
              const y = Buffer.from(x);
              y[byte]! ^= 1 << bit;
              return y;
            });
            // X25519 ignores the top bit of u (RFC 7748 §5) but h still covers it, so that flip too must fail.
            assert.ok(isHandshakeError(e), `${name} message ${k} byte ${byte} bit ${bit}: ${String(e)}`);
          }
        }
      });
    });
  }
});

describe('a truncated handshake message fails with HandshakeError', () => {
  for (const name of PROTOCOLS) {
    it(name, () => {
      transcript(name).forEach((m, k) => {
        for (let len = 0; len < m.length; len += len < 40 ? 1 : 13) {
          const e = firstFailure(name, k, (x) => x.subarray(0, len));
          assert.ok(isHandshakeError(e), `${name} message ${k} truncated to ${len}: ${String(e)}`);
        }
        const longer = firstFailure(name, k, (x) => Buffer.concat([x, Buffer.from([0])]));
        assert.ok(isHandshakeError(longer), `${name} message ${k} with a trailing byte`);
      });
    });
  }
  it('a message shorter than a key fails at once', () => {
    const r = new HandshakeState(options('Noise_XX_25519_ChaChaPoly_SHA256', false));
    assert.throws(() => r.readMessage(Buffer.alloc(31)), HandshakeError);
    assert.throws(() => r.readMessage(EMPTY), HandshakeError, 'the state is aborted after a failure');
  });
});

describe('use out of turn is a HandshakeError', () => {
  const name = 'Noise_XX_25519_ChaChaPoly_SHA256';
  it('responder writing first, initiator reading first; state untouched', () => {
    const i = new HandshakeState(options(name, true));
    const r = new HandshakeState(options(name, false));
    assert.throws(() => r.writeMessage(), HandshakeError);
    assert.throws(() => i.readMessage(Buffer.alloc(48)), HandshakeError);
    assert.throws(() => i.split(), HandshakeError);
    // The refused calls did not disturb either state.
    r.readMessage(i.writeMessage());
    assert.throws(() => i.writeMessage(), HandshakeError);
    assert.throws(() => r.readMessage(Buffer.alloc(100)), HandshakeError);
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    assert.equal(i.isComplete() && r.isComplete(), true);
  });
  it('reading or writing after completion', () => {
    const i = new HandshakeState(options(name, true));
    const r = new HandshakeState(options(name, false));
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    const m3 = i.writeMessage();
    r.readMessage(m3);
    assert.throws(() => r.readMessage(m3), HandshakeError);
    assert.throws(() => i.writeMessage(), HandshakeError);
    assert.throws(() => r.writeMessage(), HandshakeError);
    assert.throws(() => i.readMessage(m3), HandshakeError);
  });
  it('one-way: the responder never writes', () => {
    const r = new HandshakeState(options('Noise_N_25519_ChaChaPoly_SHA256', false));
    assert.equal(r.isMyTurn(), false);
    assert.throws(() => r.writeMessage(), HandshakeError);
  });
  it('after a failed read the handshake stays aborted', () => {
    const i = new HandshakeState(options(name, true));
    const r = new HandshakeState(options(name, false));
    r.readMessage(i.writeMessage());
    const m2 = r.writeMessage();
    const bad = Buffer.from(m2);
    bad[40]! ^= 1;
    assert.throws(() => i.readMessage(bad), HandshakeError);
    assert.equal(i.isMyTurn(), false);
    assert.throws(() => i.readMessage(m2), HandshakeError);
    assert.throws(() => i.writeMessage(), HandshakeError);
    assert.equal(i.handshakeHash().length, 32, 'h stays readable');
  });
});

describe('wrong PSK is a HandshakeError', () => {
  for (const name of ['Noise_NNpsk0_25519_ChaChaPoly_SHA256', 'Noise_XXpsk3_25519_ChaChaPoly_SHA256', 'Noise_XXpsk3_25519_AESGCM_SHA256', 'Noise_IKpsk2_25519_AESGCM_SHA512']) {
    it(name, () => {
      const e = firstFailure(name, -1, (x) => x, Buffer.alloc(32, 8));
      assert.ok(isHandshakeError(e), String(e));
    });
  }
});

describe(`messages over ${MAX_NOISE_MESSAGE} bytes are a HandshakeError`, () => {
  const name = 'Noise_XX_25519_ChaChaPoly_SHA256';
  it('reading an oversized message leaves the state usable', () => {
    const i = new HandshakeState(options(name, true));
    const r = new HandshakeState(options(name, false));
    assert.throws(() => r.readMessage(Buffer.alloc(MAX_NOISE_MESSAGE + 1)), HandshakeError);
    r.readMessage(i.writeMessage());
  });
  it('writing: payload too long, and a message that would exceed the limit', () => {
    const i = new HandshakeState(options(name, true));
    assert.throws(() => i.writeMessage(Buffer.alloc(MAX_NOISE_MESSAGE + 1)), HandshakeError);
    const ok = new HandshakeState(options(name, true)).writeMessage(Buffer.alloc(MAX_NOISE_MESSAGE - 32));
    assert.equal(ok.length, MAX_NOISE_MESSAGE);
    assert.throws(() => new HandshakeState(options(name, true)).writeMessage(Buffer.alloc(MAX_NOISE_MESSAGE - 31)), HandshakeError);
    const r = new HandshakeState(options(name, false));
    assert.equal(r.readMessage(ok).length, MAX_NOISE_MESSAGE - 32);
  });
  it('transport messages', () => {
    const i = new HandshakeState(options('Noise_NN_25519_AESGCM_SHA256', true));
    const r = new HandshakeState(options('Noise_NN_25519_AESGCM_SHA256', false));
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    assert.throws(() => i.split().send.encryptWithAd(EMPTY, Buffer.alloc(MAX_NOISE_MESSAGE)), HandshakeError);
    assert.throws(() => r.split().receive.decryptWithAd(EMPTY, Buffer.alloc(MAX_NOISE_MESSAGE + 1)), HandshakeError);
  });
});

describe('invalid peer public keys and exhausted nonces', () => {
  it('a low-order (all-zero) ephemeral from the peer is a HandshakeError', () => {
    const r = new HandshakeState(options('Noise_NN_25519_ChaChaPoly_SHA256', false));
    r.readMessage(Buffer.alloc(32));
    assert.throws(() => r.writeMessage(), HandshakeError);
    const rk = new HandshakeState(options('Noise_NK_25519_ChaChaPoly_SHA256', false));
    assert.throws(() => rk.readMessage(Buffer.alloc(48)), HandshakeError);
  });
  it('a transport CipherState at nonce 2^64-1 refuses to encrypt or decrypt', () => {
    const i = new HandshakeState(options('Noise_NN_25519_ChaChaPoly_SHA256', true));
    const r = new HandshakeState(options('Noise_NN_25519_ChaChaPoly_SHA256', false));
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    const send = i.split().send;
    const receive = r.split().receive;
    send.setNonce(NOISE_MAX_NONCE);
    receive.setNonce(NOISE_MAX_NONCE);
    assert.throws(() => send.encryptWithAd(EMPTY, Buffer.from('x')), HandshakeError);
    assert.throws(() => receive.decryptWithAd(EMPTY, Buffer.alloc(17)), HandshakeError);
  });
});

describe('random garbage never throws anything but HandshakeError', () => {
  const rnd = createSeededRandom(2024);
  for (const name of PROTOCOLS) {
    it(name, () => {
      for (let n = 0; n < 40; n++) {
        const len = rnd.bytes(1)[0]! % 3 === 0 ? rnd.bytes(1)[0]! : rnd.bytes(2).readUInt16BE(0) % 300;
        const r = new HandshakeState(options(name, false));
        try {
          r.readMessage(rnd.bytes(len));
          // Accepted (e.g. NN message 1 is unauthenticated): the reply or the next read must still be well-typed.
          if (r.isMyTurn()) r.writeMessage();
        } catch (e) {
          assert.ok(isHandshakeError(e), `${name} garbage of ${len} bytes: ${String(e)}`);
        }
      }
    });
  }
});
