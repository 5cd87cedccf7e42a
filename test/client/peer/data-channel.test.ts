/**
 * SPEC PEER-3: the TLS 1.3 data channel between two simulated devices, negotiated with the
 * `src/sdp` offer/answer helpers (no SIP), over real loopback sockets.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  connectDataChannel, createDataChannelIdentity, DataChannelError, DataChannelListener, identityFingerprint,
  type DataChannel, type DataChannelIdentity,
} from '../../../src/client/peer/index.js';
import { CertificateAuthority, createCaRoot, type CaRootMaterial } from '../../../src/crypto/x509/index.js';
import {
  ACTIVE_PORT, answerDataChannel, applyDataChannelAnswer, computeFingerprint, createDataChannelOffer, type Fingerprint,
} from '../../../src/sdp/index.js';
import { createCryptoRandom } from '../../../src/util/random.js';
import { echoRoundTrip, rejectsWith } from './support.js';

const HOST = '127.0.0.1';
const random = (n: number): Buffer => randomBytes(n);
const MB = 1024 * 1024;

interface Outcome {
  offerer: PromiseSettledResult<DataChannel>;
  answerer: PromiseSettledResult<DataChannel>;
  offererRole: string;
  answererRole: string;
  offerText: string;
  answerText: string;
}

/**
 * Alice offers (actpass, so she listens first: her port is in the offer), Bob answers with
 * `preferredRole`; each then plays the role the negotiation gave it. `aliceAdvertises`
 * replaces the fingerprint in Alice's offer (to test a mismatch).
 */
async function negotiateAndConnect(
  preferredRole: 'active' | 'passive',
  alice: DataChannelIdentity,
  bob: DataChannelIdentity,
  opts: { aliceAdvertises?: Fingerprint } = {},
): Promise<Outcome> {
  const aliceListener = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
  const offer = createDataChannelOffer({
    address: HOST, port: aliceListener.port, random, fingerprints: [opts.aliceAdvertises ?? computeFingerprint(alice.certificate)],
  });
  assert.equal(offer.setup, 'actpass');
  assert.match(offer.text, /\r\nm=application \d+ TCP\/TLS sipher-data\r\n/);
  assert.match(offer.text, /\r\na=setup:actpass\r\n/);

  const bobListener = preferredRole === 'passive' ? await DataChannelListener.open({ local: { host: HOST }, identity: bob }) : undefined;
  const answer = answerDataChannel(offer.text, {
    address: HOST, port: bobListener?.port ?? ACTIVE_PORT, random, fingerprints: [computeFingerprint(bob.certificate)], preferredRole,
  });
  assert.equal(answer.status, 'accepted');
  if (answer.status !== 'accepted') throw new Error('unreachable');
  const bobNeg = answer.negotiation;
  assert.match(answer.text, new RegExp(`\\r\\na=setup:${preferredRole}\\r\\n`));

  const applied = applyDataChannelAnswer(offer, answer.text);
  assert.equal(applied.status, 'accepted');
  if (applied.status !== 'accepted') throw new Error('unreachable');
  const aliceNeg = applied.negotiation;

  let aliceSide: Promise<DataChannel>;
  let bobSide: Promise<DataChannel>;
  if (bobNeg.role === 'active') {
    // RFC 4145 §4.1: the active end connects, the passive end listens.
    assert.equal(aliceNeg.role, 'passive');
    aliceSide = aliceListener.accept({ host: aliceNeg.remote.address, port: aliceNeg.remote.port }, aliceNeg.peerFingerprints);
    bobSide = connectDataChannel({
      role: 'active', local: { host: HOST }, remote: { host: bobNeg.remote.address, port: bobNeg.remote.port }, identity: bob, remoteFingerprint: bobNeg.peerFingerprints,
    });
  } else {
    assert.equal(aliceNeg.role, 'active');
    await aliceListener.close(); // Bob listens: Alice's listener is not needed
    bobSide = bobListener!.accept({ host: bobNeg.remote.address, port: bobNeg.remote.port }, bobNeg.peerFingerprints);
    aliceSide = connectDataChannel({
      role: 'active', local: { host: HOST }, remote: { host: aliceNeg.remote.address, port: aliceNeg.remote.port }, identity: alice, remoteFingerprint: aliceNeg.peerFingerprints,
    });
  }
  const [offerer, answerer] = await Promise.allSettled([aliceSide, bobSide]);
  await aliceListener.close();
  await bobListener?.close();
  return { offerer, answerer, offererRole: aliceNeg.role, answererRole: bobNeg.role, offerText: offer.text, answerText: answer.text };
}

function value<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

describe('data channel negotiated by SDP offer/answer', () => {
  let alice: DataChannelIdentity;
  let bob: DataChannelIdentity;
  let mallory: DataChannelIdentity;
  before(async () => {
    [alice, bob, mallory] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity(), createDataChannelIdentity()]);
  });

  for (const preferredRole of ['active', 'passive'] as const) {
    it(`answerer ${preferredRole}: the right side listens, TLS 1.3, 1 MB echoes byte-exact both ways`, async () => {
      const o = await negotiateAndConnect(preferredRole, alice, bob);
      assert.equal(o.answererRole, preferredRole);
      assert.equal(o.offererRole, preferredRole === 'active' ? 'passive' : 'active');
      // The active end writes the discard port (RFC 4145 §4); the passive end its listening port.
      const answerPort = Number(/\r\nm=application (\d+) /.exec(o.answerText)![1]);
      if (preferredRole === 'active') assert.equal(answerPort, ACTIVE_PORT);
      else assert.notEqual(answerPort, ACTIVE_PORT);
      const a = value(o.offerer);
      const b = value(o.answerer);
      try {
        assert.equal(a.getProtocol(), 'TLSv1.3');
        assert.equal(b.getProtocol(), 'TLSv1.3');
        // Each side sees the certificate whose fingerprint the other put in its SDP.
        assert.deepEqual(a.peerCertificate, bob.certificate);
        assert.deepEqual(b.peerCertificate, alice.certificate);
        const one = randomBytes(MB);
        assert.ok((await echoRoundTrip(a, b, one)).equals(one), 'offerer → answerer → offerer');
        const two = randomBytes(MB);
        assert.ok((await echoRoundTrip(b, a, two)).equals(two), 'answerer → offerer → answerer');
      } finally {
        a.destroy();
        b.destroy();
      }
    });
  }

  for (const preferredRole of ['active', 'passive'] as const) {
    it(`a wrong fingerprint in the offer fails both ends (the ${preferredRole === 'active' ? 'active' : 'passive'} end detects it)`, async () => {
      // Alice presents her certificate but her offer names Mallory's.
      const o = await negotiateAndConnect(preferredRole, alice, bob, { aliceAdvertises: computeFingerprint(mallory.certificate) });
      assert.equal(o.offerer.status, 'rejected');
      assert.equal(o.answerer.status, 'rejected');
      const bobErr = (o.answerer as PromiseRejectedResult).reason as DataChannelError;
      const aliceErr = (o.offerer as PromiseRejectedResult).reason as DataChannelError;
      assert.ok(bobErr instanceof DataChannelError && aliceErr instanceof DataChannelError);
      // Bob checks Alice's certificate against the offer and refuses it…
      assert.equal(bobErr.reason, 'fingerprint-mismatch');
      assert.equal(bobErr.detectedBy, 'local');
      assert.equal(bobErr.code, 'SIPHER_ERR_CERTIFICATE');
      // …and tells Alice why, who never got a stream either.
      assert.ok(['fingerprint-mismatch', 'tls'].includes(aliceErr.reason), aliceErr.message);
      if (aliceErr.reason === 'fingerprint-mismatch') assert.equal(aliceErr.detectedBy, 'peer');
    });
  }

  it('a wrong fingerprint in the answer fails both ends (the offerer detects it)', async () => {
    // Bob (active) presents his own certificate; Alice is told Mallory's fingerprint for him.
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const [aliceR, bobR] = await Promise.allSettled([
      l.accept({ host: HOST, port: ACTIVE_PORT }, computeFingerprint(mallory.certificate)),
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: computeFingerprint(alice.certificate) }),
    ]);
    assert.equal(aliceR.status, 'rejected');
    assert.equal(bobR.status, 'rejected');
    assert.equal((aliceR as PromiseRejectedResult).reason.reason, 'fingerprint-mismatch');
    assert.ok(['fingerprint-mismatch', 'tls'].includes((bobR as PromiseRejectedResult).reason.reason));
  });

  it('other hash functions of a=fingerprint work (sha-1, sha-384, sha-512; text and {algorithm, value} forms)', async () => {
    for (const hash of ['sha-1', 'sha-384', 'sha-512'] as const) {
      const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
      const bobFp = computeFingerprint(bob.certificate, hash);
      const aliceFp = computeFingerprint(alice.certificate, hash);
      const [a, b] = await Promise.all([
        l.accept({ host: HOST }, `${bobFp.hash} ${bobFp.value.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:')}`),
        connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: { algorithm: hash.toUpperCase(), value: aliceFp.value.toString('hex') } }),
      ]);
      const msg = Buffer.from(`hello over ${hash}`);
      assert.ok((await echoRoundTrip(b, a, msg)).equals(msg));
      a.destroy();
      b.destroy();
    }
  });

  it('a listener without an identity generates a self-signed P-256 certificate and advertises it', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST } });
    assert.equal(l.identity.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const [a, b] = await Promise.all([
      l.accept({ host: HOST }, identityFingerprint(bob)),
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: l.fingerprint() }),
    ]);
    try {
      assert.deepEqual(b.peerCertificate, l.identity.certificate);
      assert.equal(b.peerAor, undefined);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe('data channel with certificates from the domain CA (trust roots + AOR)', () => {
  const now = Date.now(); // TLS peers and verifyCertificate use the real clock here
  const cryptoRandom = createCryptoRandom();
  let root: CaRootMaterial;
  let otherRoot: CaRootMaterial;
  let aliceCa: DataChannelIdentity;
  let bobCa: DataChannelIdentity;
  let aliceOtherCa: DataChannelIdentity;
  let aliceExpired: DataChannelIdentity;
  let selfSigned: DataChannelIdentity;

  async function issue(ca: CertificateAuthority, aor: string, from = now - 60_000, to = now + 3_600_000): Promise<DataChannelIdentity> {
    const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certificate = await ca.issue({
      aor, publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), notBefore: new Date(from), notAfter: new Date(to), random: cryptoRandom,
    });
    return { certificate, privateKey };
  }

  before(async () => {
    const mk = (): Promise<CaRootMaterial> => createCaRoot({ domain: 'example.com', passphrase: 'pw', now: new Date(now - 86_400_000), random: cryptoRandom, kdfIterations: 10_000 });
    [root, otherRoot] = await Promise.all([mk(), mk()]);
    const ca = await CertificateAuthority.load('example.com', [root], 'pw');
    const other = await CertificateAuthority.load('example.com', [otherRoot], 'pw');
    aliceCa = await issue(ca, 'sip:alice@example.com');
    bobCa = await issue(ca, 'sip:bob@example.com');
    aliceOtherCa = await issue(other, 'sip:alice@example.com');
    aliceExpired = await issue(ca, 'sip:alice@example.com', now - 7_200_000, now - 3_600_000);
    selfSigned = await createDataChannelIdentity();
  });

  /** Alice listens expecting Bob; Bob connects expecting `bobExpects` of the certificate Alice presents. */
  async function run(aliceId: DataChannelIdentity, bobExpects: { aor: string; roots?: Uint8Array[] }): Promise<[PromiseSettledResult<DataChannel>, PromiseSettledResult<DataChannel>]> {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: aliceId, trust: { roots: [root.certificate], aor: 'sip:bob@example.com' } });
    const r = await Promise.allSettled([
      l.accept({ host: HOST }, identityFingerprint(bobCa)),
      connectDataChannel({
        role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bobCa, remoteFingerprint: identityFingerprint(aliceId),
        trust: { roots: bobExpects.roots ?? [root.certificate], aor: bobExpects.aor },
      }),
    ]);
    await l.close();
    for (const x of r) if (x.status === 'fulfilled') x.value.destroy();
    return r;
  }

  it('both ends verify chain and AOR, then talk', async () => {
    const [a, b] = await run(aliceCa, { aor: 'sip:alice@example.com' });
    assert.equal(a.status, 'fulfilled', a.status === 'rejected' ? String(a.reason) : '');
    assert.equal(b.status, 'fulfilled', b.status === 'rejected' ? String(b.reason) : '');
    if (a.status !== 'fulfilled' || b.status !== 'fulfilled') return;
    assert.equal(a.value.peerAor, 'sip:bob@example.com');
    assert.equal(b.value.peerAor, 'sip:alice@example.com');
    assert.deepEqual(b.value.peerCertificate, aliceCa.certificate);
  });

  const cases: [string, () => DataChannelIdentity, { aor: string; roots?: () => Uint8Array[] }, RegExp][] = [
    ['a certificate naming another AOR', () => aliceCa, { aor: 'sip:carol@example.com' }, /names "sip:alice@example\.com", expected sip:carol@example\.com/],
    ['a certificate from another root', () => aliceOtherCa, { aor: 'sip:alice@example.com' }, /not trusted \(untrusted\)/],
    ['an expired certificate', () => aliceExpired, { aor: 'sip:alice@example.com' }, /not trusted \(expired\)/],
    ['a self-signed certificate', () => selfSigned, { aor: 'sip:alice@example.com' }, /not trusted/],
    ['trusting only another root', () => aliceCa, { aor: 'sip:alice@example.com', roots: () => [otherRoot.certificate] }, /not trusted/],
  ];
  for (const [name, id, expects, message] of cases) {
    it(`${name} → untrusted-certificate on both ends`, async () => {
      const [a, b] = await run(id(), { aor: expects.aor, ...(expects.roots ? { roots: expects.roots() } : {}) });
      assert.equal(b.status, 'rejected');
      const bobErr = (b as PromiseRejectedResult).reason as DataChannelError;
      assert.ok(bobErr instanceof DataChannelError);
      assert.equal(bobErr.reason, 'untrusted-certificate');
      assert.equal(bobErr.code, 'SIPHER_ERR_CERTIFICATE');
      assert.match(bobErr.message, message);
      assert.equal(a.status, 'rejected');
      await rejectsWith(Promise.reject((a as PromiseRejectedResult).reason), 'untrusted-certificate', 'tls');
    });
  }

  it('the passive end refuses an active peer naming another AOR', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: aliceCa });
    const [a, b] = await Promise.allSettled([
      l.accept({ host: HOST }, identityFingerprint(bobCa), { roots: [root.certificate], aor: 'sip:carol@example.com' }),
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bobCa, remoteFingerprint: identityFingerprint(aliceCa) }),
    ]);
    const aliceErr = await rejectsWith(Promise.reject((a as PromiseRejectedResult).reason), 'untrusted-certificate');
    assert.equal(aliceErr.detectedBy, 'local');
    const bobErr = await rejectsWith(b.status === 'rejected' ? Promise.reject(b.reason) : Promise.resolve(b.value), 'untrusted-certificate', 'tls');
    if (bobErr.reason === 'untrusted-certificate') assert.equal(bobErr.detectedBy, 'peer');
  });
});
