/**
 * SPEC PEER-3 edges over real loopback sockets: who may connect to the passive end, time
 * bounds (driven by a ManualClock where nothing else waits), TLS 1.3 only, peers that skip
 * the verification confirmation, closing, and parameter checks.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer as netServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsServer, type TLSSocket } from 'node:tls';
import {
  connectDataChannel, createDataChannelIdentity, DataChannelListener, identityFingerprint, type DataChannelIdentity,
} from '../../../src/client/peer/index.js';
import { toPem } from '../../../src/crypto/x509/index.js';
import { InvalidArgumentError, TransportError } from '../../../src/errors.js';
import { ManualClock } from '../../../src/util/clock.js';
import { closed, echoRoundTrip, freePort, rejectsWith, settle } from './support.js';

const HOST = '127.0.0.1';

function pem(id: DataChannelIdentity): { cert: string; key: string } {
  return { cert: toPem(id.certificate, 'CERTIFICATE'), key: id.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

describe('data channel: who may connect to the passive end', () => {
  let alice: DataChannelIdentity;
  let bob: DataChannelIdentity;
  before(async () => {
    [alice, bob] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity()]);
  });

  it('a connection from another host is refused before TLS; the real peer still connects', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const accepted = l.accept({ host: '127.0.0.2', port: 9 }, identityFingerprint(bob));
    // A third party on 127.0.0.1 with Bob's own certificate and key connects first.
    const intruder = tlsConnect({ host: HOST, port: l.port, ...pem(bob), rejectUnauthorized: false });
    const intruderClosed = closed(intruder);
    const { hadData } = await intruderClosed;
    assert.equal(hadData, false);
    assert.equal(intruder.authorized, false);
    assert.equal(l.refusedCount, 1);
    const [a, b] = await Promise.all([
      accepted,
      connectDataChannel({ role: 'active', local: { host: '127.0.0.2' }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }),
    ]);
    try {
      assert.equal(a.remoteAddress, '127.0.0.2');
      const msg = Buffer.from('still here');
      assert.ok((await echoRoundTrip(b, a, msg)).equals(msg));
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('with a pinned source port, a connection from another port is refused; the real peer still connects', async () => {
    const bobPort = await freePort();
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const accepted = l.accept({ host: HOST, sourcePort: bobPort }, identityFingerprint(bob));
    const intruder = netConnect({ host: HOST, port: l.port });
    intruder.write('not TLS at all');
    await closed(intruder);
    assert.equal(l.refusedCount, 1);
    const [a, b] = await Promise.all([
      accepted,
      connectDataChannel({ role: 'active', local: { host: HOST, port: bobPort }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }),
    ]);
    assert.equal(a.remotePort, bobPort);
    a.destroy();
    b.destroy();
  });

  it('connections that arrive before accept() wait for it; the wrong one is refused then', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const intruder = netConnect({ host: HOST, port: l.port });
    const intruderClosed = closed(intruder);
    // Bob (active) connects before Alice has the answer, i.e. before she calls accept().
    const bobSide = connectDataChannel({ role: 'active', local: { host: '127.0.0.2' }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) });
    await settle(50);
    assert.equal(l.refusedCount, 0);
    const [a, b] = await Promise.all([l.accept({ host: '127.0.0.2' }, identityFingerprint(bob)), bobSide]);
    await intruderClosed;
    assert.equal(l.refusedCount, 1);
    a.destroy();
    b.destroy();
  });

  it('exactly one connection: the listener stops listening once it has picked one', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const [a, b] = await Promise.all([
      l.accept({ host: HOST }, identityFingerprint(bob)),
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }),
    ]);
    const again = netConnect({ host: HOST, port: l.port });
    await assert.rejects(new Promise((resolve, reject) => {
      again.once('connect', resolve);
      again.once('error', reject);
    }), /ECONNREFUSED/);
    // Closing the listener leaves the stream it returned alone.
    await l.close();
    const msg = Buffer.from('after close');
    assert.ok((await echoRoundTrip(a, b, msg)).equals(msg));
    a.destroy();
    b.destroy();
  });

  it('a failed verification also ends listening (the listener is single-use)', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    await Promise.allSettled([
      l.accept({ host: HOST }, identityFingerprint(alice)), // wrong: expects its own fingerprint
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }),
    ]);
    await assert.rejects(connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }), (e: unknown) => (e as { reason?: string }).reason === 'connect');
  });
});

describe('data channel: time bounds', () => {
  let alice: DataChannelIdentity;
  let bob: DataChannelIdentity;
  before(async () => {
    [alice, bob] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity()]);
  });

  it('accept() times out when nobody connects (ManualClock), and stops listening', async () => {
    const clock = new ManualClock();
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice, clock, timeoutMs: 5000 });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    await settle(5);
    clock.advance(4999);
    await settle(5);
    let done = false;
    void p.then(() => { done = true; }, () => { done = true; });
    await settle(5);
    assert.equal(done, false);
    clock.advance(1);
    const err = await rejectsWith(p, 'timeout');
    assert.equal(err.code, 'SIPHER_ERR_TRANSPORT');
    const probe = netConnect({ host: HOST, port: l.port });
    await assert.rejects(new Promise((res, rej) => { probe.once('connect', res); probe.once('error', rej); }), /ECONNREFUSED/);
  });

  it('accept() reports wrong-peer when only unexpected addresses came', async () => {
    const clock = new ManualClock();
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice, clock });
    const p = l.accept({ host: '127.0.0.2' }, identityFingerprint(bob));
    await closed(netConnect({ host: HOST, port: l.port }));
    clock.advance(10_000);
    const err = await rejectsWith(p, 'wrong-peer');
    assert.match(err.message, /refused 1 from other addresses \(last 127\.0\.0\.1:\d+\)/);
  });

  it('the default bound is 10 s', async () => {
    const clock = new ManualClock();
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice, clock });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    await settle(5);
    clock.advance(9_999);
    clock.advance(1);
    await rejectsWith(p, 'timeout');
  });

  it('connect times out when the peer accepts TCP but never completes TLS', async () => {
    const held: Socket[] = [];
    const silent = netServer((s) => { held.push(s); });
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    const clock = new ManualClock();
    try {
      const p = connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: (silent.address() as AddressInfo).port }, identity: bob, remoteFingerprint: identityFingerprint(alice), clock, timeoutMs: 2000 });
      await settle(30);
      clock.advance(2000);
      const err = await rejectsWith(p, 'timeout');
      assert.match(err.message, /TLS handshake/);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('connect times out on the real clock too (short bound)', async () => {
    const held: Socket[] = [];
    const silent = netServer((s) => { held.push(s); });
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    try {
      const t0 = Date.now();
      await rejectsWith(connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: (silent.address() as AddressInfo).port }, identity: bob, remoteFingerprint: identityFingerprint(alice), timeoutMs: 150 }), 'timeout');
      assert.ok(Date.now() - t0 >= 140);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('connect to a port nobody listens on → connect', async () => {
    const port = await freePort();
    const err = await rejectsWith(connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }), 'connect');
    assert.match(err.message, /ECONNREFUSED/);
  });
});

describe('data channel: TLS 1.3 only, and no stream before both ends confirmed', () => {
  let alice: DataChannelIdentity;
  let bob: DataChannelIdentity;
  before(async () => {
    [alice, bob] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity()]);
  });

  it('the channel is TLS 1.3', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const [a, b] = await Promise.all([
      l.accept({ host: HOST }, identityFingerprint(bob)),
      connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: l.port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }),
    ]);
    assert.equal(a.getProtocol(), 'TLSv1.3');
    assert.equal(b.getProtocol(), 'TLSv1.3');
    a.destroy();
    b.destroy();
  });

  it('a TLS 1.2-only client is refused by the passive end', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    const old = tlsConnect({ host: HOST, port: l.port, ...pem(bob), rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    const oldFailed = new Promise<string>((resolve) => {
      old.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
      old.once('secureConnect', () => resolve('connected'));
    });
    await rejectsWith(p, 'tls');
    assert.notEqual(await oldFailed, 'connected');
    old.destroy();
  });

  it('a TLS 1.2-only server is refused by the active end', async () => {
    const srv = tlsServer({ ...pem(alice), maxVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: false }, (s) => s.end());
    srv.on('tlsClientError', () => {});
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    try {
      await rejectsWith(connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: (srv.address() as AddressInfo).port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }), 'tls');
    } finally {
      srv.close();
    }
  });

  it('a client without a certificate → fingerprint-mismatch', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    const anon = tlsConnect({ host: HOST, port: l.port, rejectUnauthorized: false });
    anon.on('error', () => {});
    const err = await rejectsWith(p, 'fingerprint-mismatch');
    assert.match(err.message, /no certificate/);
    anon.destroy();
  });

  it('a peer that completes TLS but never confirms never gets a stream from us (timeout, not success)', async () => {
    const clock = new ManualClock();
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice, clock, timeoutMs: 3000 });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    const plain = tlsConnect({ host: HOST, port: l.port, ...pem(bob), rejectUnauthorized: false });
    plain.on('error', () => {});
    const got: Buffer[] = [];
    plain.on('data', (d: Buffer) => got.push(d));
    await new Promise((r) => plain.once('secureConnect', r));
    await settle(50);
    // Alice verified Bob's certificate and sent her confirmation octet, nothing else.
    assert.deepEqual(Buffer.concat(got), Buffer.from([0x01]));
    clock.advance(3000);
    await rejectsWith(p, 'timeout');
    plain.destroy();
  });

  it('application bytes in place of the confirmation octet are refused, never delivered', async () => {
    const srv = tlsServer({ ...pem(alice), minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false }, (s: TLSSocket) => {
      s.on('error', () => {});
      s.write('hello, unverified');
    });
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    try {
      const err = await rejectsWith(connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: (srv.address() as AddressInfo).port }, identity: bob, remoteFingerprint: identityFingerprint(alice) }), 'tls');
      assert.match(err.message, /unexpected verification octet 0x68/);
    } finally {
      srv.close();
    }
  });

  it('after the octet, bytes the peer sent early are delivered intact', async () => {
    const srv = tlsServer({ ...pem(alice), minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false }, (s: TLSSocket) => {
      s.on('error', () => {});
      s.write(Buffer.concat([Buffer.from([0x01]), Buffer.from('early data')]));
    });
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    try {
      const b = await connectDataChannel({ role: 'active', local: { host: HOST }, remote: { host: HOST, port: (srv.address() as AddressInfo).port }, identity: bob, remoteFingerprint: identityFingerprint(alice) });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => {
        b.on('data', (d: Buffer) => {
          chunks.push(d);
          if (Buffer.concat(chunks).length >= 10) resolve();
        });
      });
      assert.equal(Buffer.concat(chunks).toString(), 'early data');
      b.destroy();
    } finally {
      srv.close();
    }
  });
});

describe('data channel: closing and parameters', () => {
  let alice: DataChannelIdentity;
  let bob: DataChannelIdentity;
  before(async () => {
    [alice, bob] = await Promise.all([createDataChannelIdentity(), createDataChannelIdentity()]);
  });

  it('close() while accepting rejects accept() with closed', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    await settle(5);
    await l.close();
    await rejectsWith(p, 'closed');
    await rejectsWith(l.accept({ host: HOST }, identityFingerprint(bob)), 'closed');
    await l.close(); // idempotent
  });

  it('accept() may be called once', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    const p = l.accept({ host: HOST }, identityFingerprint(bob));
    await assert.rejects(l.accept({ host: HOST }, identityFingerprint(bob)), InvalidArgumentError);
    await l.close();
    await rejectsWith(p, 'closed');
  });

  it('listening on a port in use → TransportError', async () => {
    const l = await DataChannelListener.open({ local: { host: HOST }, identity: alice });
    await assert.rejects(DataChannelListener.open({ local: { host: HOST, port: l.port }, identity: alice }), TransportError);
    await l.close();
  });

  it('bad parameters → InvalidArgumentError', async () => {
    const ok = { role: 'active' as const, local: { host: HOST }, remote: { host: HOST, port: 1 }, identity: bob, remoteFingerprint: identityFingerprint(alice) };
    await assert.rejects(connectDataChannel({ ...ok, role: 'passive' }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, remote: { host: HOST, port: 0 } }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, remoteFingerprint: [] }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, remoteFingerprint: 'md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF' }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, timeoutMs: 0 }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, identity: { certificate: bob.certificate, privateKey: alice.privateKey } }), /does not belong/);
    await assert.rejects(connectDataChannel({ ...ok, trust: { roots: [], aor: 'sip:a@example.com' } }), InvalidArgumentError);
    await assert.rejects(connectDataChannel({ ...ok, trust: { roots: [alice.certificate], aor: 'alice' } }), InvalidArgumentError);
    await assert.rejects(DataChannelListener.open({ local: { host: HOST, port: 70_000 } }), InvalidArgumentError);
  });
});
