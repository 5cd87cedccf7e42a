/**
 * PolicyService (SPEC POL-2): a new version is in force on the server that stored it at once,
 * and on another server sharing the store at its next poll; an invalid one changes nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyError } from '../../../src/errors.js';
import { PolicyService } from '../../../src/services/policy/policy-service.js';
import { openStore } from '../../../src/store/open-store.js';
import { ManualClock } from '../../../src/util/clock.js';

const DENY_ALL = 'version: 1\ndefault: deny\n';
const q = { from: 'sip:a@x.example', to: 'sip:b@x.example', kind: 'call' as const };

describe('PolicyService', () => {
  it('applies an update at once here and at the next poll on a server sharing the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipher-policy-svc-'));
    const store = await openStore('', dir);
    const clock = new ManualClock();
    const one = new PolicyService({ store, clock, pollMs: 2000 });
    const two = new PolicyService({ store, clock, pollMs: 2000 });
    try {
      await one.start();
      await two.start();
      assert.equal(one.decide(q).action, 'allow', 'no policy stored: allow');
      await assert.rejects(one.update('version: 1\ndefault: perhaps\n'), PolicyError);
      assert.equal(one.version, undefined);
      assert.deepEqual((await one.update(DENY_ALL, { author: 'ops', comment: 'lock down' })).version, 1);
      assert.equal(one.decide(q).action, 'deny');
      assert.equal(two.decide(q).action, 'allow', 'not yet polled');
      clock.advance(2000);
      for (let i = 0; i < 50 && two.version !== 1; i++) await new Promise((r) => setImmediate(r));
      assert.equal(two.version, 1);
      assert.equal(two.decide(q).action, 'deny');
      assert.deepEqual([one.counters.updates, two.counters.reloads, one.counters.denials], [1, 1, 1]);
    } finally {
      one.close();
      two.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
