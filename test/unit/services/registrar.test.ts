import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthenticator } from '../../../src/auth/digest-authenticator.js';
import { NonceManager } from '../../../src/auth/nonce-manager.js';
import { computeHa1 } from '../../../src/auth/digest.js';
import { LocationService } from '../../../src/services/location-service.js';
import { Registrar } from '../../../src/services/registrar.js';
import { LocalDomain } from '../../../src/services/local-domain.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Inbound } from '../../../src/transport/types.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createSeededRandom } from '../../../src/util/random.js';
import { register, answerChallenge } from '../../support/sip-builders.js';

const D = 'example.test';
const inbound: Inbound = {
  message: undefined as never,
  source: { protocol: 'udp', address: '127.0.0.1', port: 5099 },
  local: { protocol: 'udp', address: '127.0.0.1', port: 5060 },
};

describe('registrar (RFC 3261 §10.3)', () => {
  let store: SqliteStore;
  let clock: ManualClock;
  let location: LocationService;
  let reg: Registrar;

  async function setup(auth: boolean): Promise<void> {
    store = new SqliteStore(':memory:');
    await store.open();
    clock = new ManualClock();
    location = new LocationService({ store, clock });
    await location.start();
    const authenticator = auth
      ? new DigestAuthenticator({
          realm: D,
          nonces: new NonceManager({ clock, random: createSeededRandom(7) }),
          lookup: async (u, r) => {
            const x = await store.getUser(r, u);
            return x && { ha1Md5: x.ha1Md5, ha1Sha256: x.ha1Sha256 };
          },
        })
      : undefined;
    reg = new Registrar({ local: new LocalDomain([D], (h, p) => h === '127.0.0.1' && p === 5060), location, store, clock, authenticator });
    const now = clock.now();
    for (const u of ['alice', 'bob']) {
      await store.addUser({ domain: D, username: u, ha1Md5: computeHa1('MD5', u, D, 'pw-' + u), ha1Sha256: computeHa1('SHA-256', u, D, 'pw-' + u), createdAt: now, updatedAt: now });
    }
  }

  afterEach(async () => {
    await location.stop();
    await store.close();
  });

  describe('without authentication', () => {
    beforeEach(() => setup(false));

    it('binds a contact and answers 200 with the contact and its expiry', async () => {
      const r = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:alice@127.0.0.1:5099>', expires: 600 }), inbound, 't1');
      assert.equal(r.status, 200);
      assert.match(r.get('contact')!, /<sip:alice@127\.0\.0\.1:5099>;expires=600/);
      assert.equal(location.lookup(`sip:alice@${D}`).length, 1);
      const stored = await store.getBindings(`sip:alice@${D}`);
      assert.equal(stored.length, 1, 'binding is durable before the 200 is returned');
      assert.equal(stored[0]!.expiresAt, clock.now() + 600_000);
    });

    it('answers 423 with Min-Expires below the minimum and shortens above the maximum', async () => {
      const low = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:a@h>', expires: 10 }), inbound, 't');
      assert.equal(low.status, 423);
      assert.equal(low.get('min-expires'), '60');
      const high = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:a@h>', expires: 99999 }), inbound, 't');
      assert.equal(high.status, 200);
      assert.match(high.get('contact')!, /expires=7200/);
    });

    it('removes all bindings with Contact * and Expires 0, and rejects * without Expires 0', async () => {
      await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b1@h>, <sip:b2@h>', callId: 'c1', cseq: 1 }), inbound, 't');
      assert.equal(location.lookup(`sip:bob@${D}`).length, 2);
      const bad = await reg.handle(register({ user: 'bob', domain: D, contact: '*', callId: 'c1', cseq: 2 }), inbound, 't');
      assert.equal(bad.status, 400);
      const ok = await reg.handle(register({ user: 'bob', domain: D, contact: '*', expires: 0, callId: 'c1', cseq: 3 }), inbound, 't');
      assert.equal(ok.status, 200);
      assert.equal(location.lookup(`sip:bob@${D}`).length, 0);
      assert.equal((await store.getBindings(`sip:bob@${D}`)).length, 0);
    });

    it('rejects an out-of-order CSeq for the same Call-ID with 500', async () => {
      await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b@h>', callId: 'cx', cseq: 5 }), inbound, 't');
      const r = await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b@h>', callId: 'cx', cseq: 5 }), inbound, 't');
      assert.equal(r.status, 500);
    });

    it('expires bindings with the clock and removes one with expires=0', async () => {
      await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b@h>;expires=120, <sip:c@h>', callId: 'e', cseq: 1 }), inbound, 't');
      clock.advance(121_000);
      assert.deepEqual(location.lookup(`sip:bob@${D}`).map((b) => b.contact), ['sip:c@h']);
      await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:c@h>;expires=0', callId: 'e', cseq: 2 }), inbound, 't');
      assert.equal(location.lookup(`sip:bob@${D}`).length, 0);
    });

    it('limits the number of contacts', async () => {
      const many = Array.from({ length: 11 }, (_, i) => `<sip:c${i}@h>`).join(', ');
      const r = await reg.handle(register({ user: 'bob', domain: D, contact: many }), inbound, 't');
      assert.equal(r.status, 403);
    });

    it('stores Path when the UA supports it and echoes it (RFC 3327)', async () => {
      const r = await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b@h>', extra: ['Supported: path', 'Path: <sip:edge.example.test;lr>'] }), inbound, 't');
      assert.equal(r.status, 200);
      assert.equal(r.get('path'), '<sip:edge.example.test;lr>');
      assert.deepEqual(location.lookup(`sip:bob@${D}`)[0]!.path, ['<sip:edge.example.test;lr>']);
    });

    it('replaces the binding of the same +sip.instance and reg-id and requires outbound (RFC 5626 §6)', async () => {
      const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
      await reg.handle(register({ user: 'bob', domain: D, contact: `<sip:b@h1;ob>;${inst}`, callId: 'o1', cseq: 1, extra: ['Supported: outbound, path'] }), inbound, 't');
      const r = await reg.handle(register({ user: 'bob', domain: D, contact: `<sip:b@h2;ob>;${inst}`, callId: 'o2', cseq: 1, extra: ['Supported: outbound'] }), inbound, 't');
      assert.equal(r.status, 200);
      assert.equal(r.get('require'), 'outbound');
      assert.ok(r.get('flow-timer'));
      assert.deepEqual(location.lookup(`sip:bob@${D}`).map((b) => b.contact), ['sip:b@h2;ob']);
      const devices = await store.listDevices(`sip:bob@${D}`);
      assert.equal(devices.length, 1);
      assert.equal(devices[0]!.id, '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
    });

    it('treats its own address as an alias of its domain', async () => {
      const r = await reg.handle(register({ user: 'alice', domain: '127.0.0.1:5060', contact: '<sip:alice@127.0.0.1:5099>' }), inbound, 't');
      assert.equal(r.status, 200);
      assert.equal(location.lookup(`sip:alice@${D}`).length, 1);
    });

    it('answers 404 for a domain it does not serve and 400 for a malformed Contact', async () => {
      const r = await reg.handle(register({ user: 'bob', domain: 'other.test', contact: '<sip:b@h>' }), inbound, 't');
      assert.equal(r.status, 404);
      const bad = await reg.handle(register({ user: 'bob', domain: D, contact: '<sip:b@h:99999>' }), inbound, 't');
      assert.equal(bad.status, 400);
      assert.match(bad.reason, /port/);
    });
  });

  describe('with digest authentication (RFC 8760, RFC 7616)', () => {
    beforeEach(() => setup(true));

    it('challenges with SHA-256 first, then MD5', async () => {
      const r = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:a@h>' }), inbound, 't');
      assert.equal(r.status, 401);
      const ch = r.getAll('www-authenticate');
      assert.equal(ch.length, 2);
      assert.match(ch[0]!, /algorithm=SHA-256/);
      assert.match(ch[1]!, /algorithm=MD5/);
      assert.match(ch[0]!, /qop="auth"/);
    });

    for (const alg of ['SHA-256', 'MD5'] as const) {
      it(`accepts correct ${alg} credentials and rejects a wrong password`, async () => {
        const first = register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'a' + alg, cseq: 1 });
        const ch = await reg.handle(first, inbound, 't');
        const second = register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'a' + alg, cseq: 2, extra: [`Authorization: ${answerChallenge(ch, first, 'alice', 'pw-alice', alg)}`] });
        const ok = await reg.handle(second, inbound, 't');
        assert.equal(ok.status, 200);
        const third = register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'a' + alg, cseq: 3, extra: [`Authorization: ${answerChallenge(ch, first, 'alice', 'wrong', alg)}`] });
        assert.equal((await reg.handle(third, inbound, 't')).status, 401);
      });
    }

    it('forbids registering another user\'s AOR (403)', async () => {
      const first = register({ user: 'bob', domain: D, contact: '<sip:b@h>' });
      const ch = await reg.handle(first, inbound, 't');
      const forged = register({ user: 'bob', domain: D, contact: '<sip:b@h>', extra: [`Authorization: ${answerChallenge(ch, first, 'alice', 'pw-alice', 'SHA-256')}`] });
      assert.equal((await reg.handle(forged, inbound, 't')).status, 403);
    });

    it('rejects a replayed nonce count', async () => {
      const first = register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'rp', cseq: 1 });
      const ch = await reg.handle(first, inbound, 't');
      const cred = answerChallenge(ch, first, 'alice', 'pw-alice', 'SHA-256');
      const a = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'rp', cseq: 2, extra: [`Authorization: ${cred}`] }), inbound, 't');
      assert.equal(a.status, 200);
      const b = await reg.handle(register({ user: 'alice', domain: D, contact: '<sip:a@h>', callId: 'rp', cseq: 3, extra: [`Authorization: ${cred}`] }), inbound, 't');
      assert.equal(b.status, 401);
    });
  });
});
