/**
 * The cacophony Noise test vectors (test/vectors/noise/cacophony.json, a 25519 ChaChaPoly/AESGCM
 * subset of haskell-cryptography/cacophony vectors/cacophony.txt): both parties are run with the
 * vector's keys and fixed ephemerals; every handshake and transport message must match
 * byte-exact and decrypt to the payload, and both parties must agree on the handshake hash (and
 * match `handshake_hash` where the vector has one).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeState, noiseKeyPairFromPrivate, parseProtocolName, type HandshakeOptions } from '../../../src/crypto/noise/index.js';
import { readVector } from '../../support/vectors.js';

interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

interface VectorFile { source: string; commit: string; vectors: NoiseVector[] }

const file = JSON.parse(readVector('noise/cacophony.json').toString('utf8')) as VectorFile;
const EMPTY = Buffer.alloc(0);

function hex(s: string): Buffer;
function hex(s: string | undefined): Buffer | undefined;
function hex(s: string | undefined): Buffer | undefined {
  return s === undefined ? undefined : Buffer.from(s, 'hex');
}

function party(v: NoiseVector, initiator: boolean): HandshakeOptions {
  const p = initiator ? 'init' : 'resp';
  const get = (k: string): string | undefined => (v as unknown as Record<string, string | undefined>)[`${p}_${k}`];
  const keyPair = (k: string): ReturnType<typeof noiseKeyPairFromPrivate> | undefined => {
    const priv = get(k);
    return priv === undefined ? undefined : noiseKeyPairFromPrivate(hex(priv));
  };
  const psks = initiator ? v.init_psks : v.resp_psks;
  return {
    protocolName: v.protocol_name,
    initiator,
    prologue: hex(get('prologue')),
    s: keyPair('static'),
    e: keyPair('ephemeral'),
    rs: hex(get('remote_static')),
    psks: psks?.map((k) => hex(k)),
    // The vectors fix every ephemeral; drawing a fresh one would be a bug.
    generateKeyPair: () => assert.fail('vector run asked for a fresh ephemeral'),
  };
}

function runVector(v: NoiseVector): void {
  const init = new HandshakeState(party(v, true));
  const resp = new HandshakeState(party(v, false));
  const pattern = parseProtocolName(v.protocol_name).pattern;
  const handshakeLength = pattern.messages.length;
  assert.ok(v.messages.length >= handshakeLength, 'vector has fewer messages than the handshake');

  v.messages.forEach((m, i) => {
    // One-way patterns: everything flows initiator → responder (Noise §7.4).
    const fromInitiator = pattern.oneWay || i % 2 === 0;
    const [sender, receiver] = fromInitiator ? [init, resp] : [resp, init];
    const payload = hex(m.payload);
    if (i < handshakeLength) {
      assert.equal(sender.isMyTurn(), true, `message ${i}: sender's turn`);
      assert.equal(receiver.isMyTurn(), false, `message ${i}: not the receiver's turn`);
      const ct = sender.writeMessage(payload);
      assert.equal(ct.toString('hex'), m.ciphertext, `handshake message ${i} ciphertext`);
      assert.equal(receiver.readMessage(hex(m.ciphertext)).toString('hex'), m.payload, `handshake message ${i} payload`);
    } else {
      const ct = sender.split().send.encryptWithAd(EMPTY, payload);
      assert.equal(ct.toString('hex'), m.ciphertext, `transport message ${i} ciphertext`);
      assert.equal(receiver.split().receive.decryptWithAd(EMPTY, hex(m.ciphertext)).toString('hex'), m.payload, `transport message ${i} payload`);
    }
    if (i === handshakeLength - 1) {
      assert.equal(init.isComplete(), true);
      assert.equal(resp.isComplete(), true);
      assert.deepEqual(init.handshakeHash(), resp.handshakeHash(), 'both parties share h');
      if (v.handshake_hash !== undefined) assert.equal(init.handshakeHash().toString('hex'), v.handshake_hash);
      assert.deepEqual(init.split().initiatorToResponderKey, resp.split().initiatorToResponderKey);
      assert.deepEqual(init.split().responderToInitiatorKey, resp.split().responderToInitiatorKey);
    }
  });
}

describe('cacophony Noise vectors', () => {
  it(`fixture is the documented subset (${file.vectors.length} vectors)`, () => {
    assert.match(file.source, /^haskell-cryptography\/cacophony vectors\/cacophony\.txt/);
    assert.ok(file.vectors.length >= 60);
    for (const v of file.vectors) assert.match(v.protocol_name, /^Noise_[A-Za-z0-9+]+_25519_(ChaChaPoly|AESGCM)_(SHA256|SHA512|BLAKE2s|BLAKE2b)$/);
    for (const must of ['Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_25519_AESGCM_SHA256', 'Noise_XXpsk3_25519_ChaChaPoly_SHA256', 'Noise_XXpsk3_25519_AESGCM_SHA256']) {
      assert.ok(file.vectors.some((v) => v.protocol_name === must), must);
    }
  });
  for (const v of file.vectors) {
    it(v.protocol_name, () => runVector(v));
  }
});
