import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { loadOrCreateTlsIdentity, type TlsIdentity } from '../../../src/server/tls-identity.js';
import { createResponse, parseDatagram, type SipRequest, type SipResponse } from '../../../src/sip/index.js';
import type { Endpoint } from '../../../src/transport/types.js';
import { recordingManager, request, statusLines, waitFor } from './helpers.js';

/** A raw TLS client that accumulates what it reads. */
function tlsClient(opts: ConnectionOptions): Promise<{ socket: TLSSocket; data: () => string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const socket = connect(opts);
    socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    socket.once('secureConnect', () => resolve({ socket, data: () => buf }));
    socket.once('error', reject);
  });
}

describe('TLS transport', () => {
  let dir: string;
  let server: TlsIdentity;
  let client: TlsIdentity;
  let srv: ReturnType<typeof recordingManager>;
  let v4: Endpoint;
  let v6: Endpoint;
  const sockets: TLSSocket[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sipher-tls-'));
    server = await loadOrCreateTlsIdentity(join(dir, 'server'), ['localhost', 'sip.example.com']);
    client = await loadOrCreateTlsIdentity(join(dir, 'client'), ['phone.example.com']);
    srv = recordingManager({ tls: { cert: server.cert, key: server.key, ca: client.cert, requestClientCert: true } });
    [v4, v6] = (await srv.tm.listen([
      { protocol: 'tls', address: '127.0.0.1', port: 0 },
      { protocol: 'tls', address: '::1', port: 0 },
    ])) as [Endpoint, Endpoint];
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await srv.tm.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`accepts ${version}, verified against the generated certificate, and carries SIP both ways`, async () => {
      const c = await tlsClient({ host: '127.0.0.1', port: v4.port, ca: server.cert, minVersion: version, maxVersion: version });
      sockets.push(c.socket);
      assert.equal(c.socket.authorized, true);
      assert.equal(c.socket.getProtocol(), version);
      const callId = `tls-${version}`;
      c.socket.write(request({ transport: 'TLS', callId }), 'latin1');
      await waitFor(() => srv.inbox.some((i) => i.message.get('call-id') === callId));
      const inb = srv.inbox.find((i) => i.message.get('call-id') === callId)!;
      assert.equal(inb.source.protocol, 'tls');
      assert.equal(inb.tls?.version, version);
      assert.equal(inb.tls?.authorized, false, 'no client certificate presented');
      await srv.tm.send(createResponse(inb.message as SipRequest, 200, 'OK'), { ...inb.source, connectionId: inb.connectionId });
      await waitFor(() => statusLines(c.data()).length === 1);
      assert.deepEqual(statusLines(c.data()), ['SIP/2.0 200 OK']);
    });
  }

  it('lets a client pin the certificate by fingerprint over IPv6', async () => {
    const c = await tlsClient({ host: '::1', port: v6.port, rejectUnauthorized: false });
    sockets.push(c.socket);
    assert.equal(c.socket.authorized, false, 'self-signed: not trusted without the pin');
    const pin = new X509Certificate(server.cert).fingerprint256;
    assert.equal(server.fingerprint256, pin);
    assert.equal(c.socket.getPeerCertificate().fingerprint256, pin);
  });

  it('fails verification for a client that does not trust it, and refuses TLS 1.1', async () => {
    await assert.rejects(tlsClient({ host: '127.0.0.1', port: v4.port }), /self[- ]signed/i);
    await assert.rejects(tlsClient({ host: '127.0.0.1', port: v4.port, ca: server.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
    await waitFor(() => srv.tm.stats().tlsHandshakeFailures >= 1);
  });

  it('opens verified outbound TLS connections with a client certificate, reused for later sends', async () => {
    const cli = recordingManager({ tls: { cert: client.cert, key: client.key, ca: server.cert } });
    try {
      const r1 = parseDatagram(Buffer.from(request({ transport: 'TLS', callId: 'mtls1' }), 'latin1'));
      const r2 = parseDatagram(Buffer.from(request({ transport: 'TLS', callId: 'mtls2' }), 'latin1'));
      await cli.tm.send(r1, { ...v4, serverName: 'sip.example.com' });
      await cli.tm.send(r2, v4);
      await waitFor(() => srv.inbox.some((i) => i.message.get('call-id') === 'mtls2'));
      const i1 = srv.inbox.find((i) => i.message.get('call-id') === 'mtls1')!;
      const i2 = srv.inbox.find((i) => i.message.get('call-id') === 'mtls2')!;
      assert.equal(i1.connectionId, i2.connectionId);
      assert.equal(i1.tls?.authorized, true, 'client certificate verified against ca');
      assert.ok(i1.tls?.peerCertificate);
      assert.equal(new X509Certificate(i1.tls.peerCertificate).fingerprint256, client.fingerprint256);
      assert.equal(cli.tm.stats().connectionsOpen, 1);
      await srv.tm.send(createResponse(i1.message as SipRequest, 200, 'OK'), i1.source);
      await waitFor(() => cli.inbox.length === 1);
      assert.equal((cli.inbox[0]!.message as SipResponse).status, 200);
      assert.equal(cli.inbox[0]!.tls?.authorized, true);
    } finally {
      await cli.tm.close();
    }
  });

  it('refuses a server whose certificate does not match the expected name (RFC 5922)', async () => {
    const cli = recordingManager({ tls: { ca: server.cert } });
    try {
      const r = parseDatagram(Buffer.from(request({ transport: 'TLS' }), 'latin1'));
      await assert.rejects(cli.tm.send(r, { ...v6, serverName: 'evil.example.net' }), { name: 'TransportError' });
      await cli.tm.send(r, { ...v6, serverName: 'localhost' });
      assert.equal(cli.tm.stats().tlsHandshakeFailures, 1);
    } finally {
      await cli.tm.close();
    }
  });

  it('refuses to listen on TLS without a certificate', async () => {
    const bare = recordingManager();
    await assert.rejects(bare.tm.listen([{ protocol: 'tls', address: '127.0.0.1', port: 0 }]), { name: 'ConfigError' });
    await bare.tm.close();
  });
});

describe('TLS with a required client certificate', () => {
  it('rejects clients without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sipher-tls-req-'));
    const id = await loadOrCreateTlsIdentity(dir, ['localhost']);
    const srv = recordingManager({ tls: { cert: id.cert, key: id.key, ca: id.cert, requireClientCert: true } });
    try {
      const [ep] = await srv.tm.listen([{ protocol: 'tls', address: '127.0.0.1', port: 0 }]);
      const noCert = recordingManager({ tls: { ca: id.cert } });
      const r = parseDatagram(Buffer.from(request({ transport: 'TLS', callId: 'nocert' }), 'latin1'));
      // TLS 1.3: the client learns of the refusal only after its handshake finished.
      await noCert.tm.send(r, ep!).catch(() => undefined);
      await waitFor(() => srv.tm.stats().tlsHandshakeFailures === 1);
      assert.equal(srv.inbox.length, 0);
      await noCert.tm.close();
      const withCert = recordingManager({ tls: { cert: id.cert, key: id.key, ca: id.cert } });
      await withCert.tm.send(parseDatagram(Buffer.from(request({ transport: 'TLS', callId: 'cert' }), 'latin1')), ep!);
      await waitFor(() => srv.inbox.length === 1);
      assert.equal(srv.inbox[0]!.tls?.authorized, true);
      await withCert.tm.close();
    } finally {
      await srv.tm.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
