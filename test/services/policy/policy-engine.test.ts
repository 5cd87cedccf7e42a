/**
 * The connection-policy engine (SPEC POL-2): a table of policies × requests with the
 * expected decision, and documents at the size limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError } from '../../../src/errors.js';
import {
  canonicalPolicyAor,
  parsePolicy,
  PolicyEngine,
  REQUEST_KINDS,
  validatePolicy,
  type PolicyDocument,
  type PolicyRule,
  type RequestKind,
} from '../../../src/services/policy/index.js';

/** One request of a case and its expected outcome: the rule id that decides, or 'default'. */
interface Req {
  from: string;
  to: string;
  kind?: RequestKind;
  fromTags?: string[];
  toTags?: string[];
  expect: 'allow' | 'deny';
  by: string;
}

interface Case {
  name: string;
  policy: string;
  requests: Req[];
}

const ALICE = 'sip:alice@example.com';
const BOB = 'sip:Bob@example.com';
const CAROL = 'sip:carol@example.com';
const DAVE = 'sip:dave@example.com';
const ERIN = 'sip:erin@branch.example.com';
const FRANK = 'sip:frank@example.com';
const MALLORY = 'sip:mallory@evil.example.org';

/** Groups shared by most cases: sales ⊂ staff ⊂ everyone, support ⊂ staff. */
const GROUPS = `
groups:
  sales: [sip:alice@example.com, "sips:Bob@EXAMPLE.com;transport=tls"]
  support: [sip:dave@example.com]
  staff: ["@sales", "@support", sip:carol@example.com]
  everyone: ["@staff", sip:erin@branch.example.com]
  empty: []
`;

const r = (from: string, to: string, expect: 'allow' | 'deny', by: string, extra: Partial<Req> = {}): Req => ({ from, to, expect, by, ...extra });

const CASES: Case[] = [
  {
    name: 'nested groups resolve transitively',
    policy: `version: 1
default: deny
${GROUPS}
rules:
  - { id: everyone-to-staff, action: allow, from: { groups: [everyone] }, to: { groups: [staff] } }
  - { id: nobody, action: allow, from: { groups: [empty] }, to: { any: true } }
`,
    requests: [
      r(ALICE, CAROL, 'allow', 'everyone-to-staff'), // sales ⊂ staff ⊂ everyone
      r(ERIN, DAVE, 'allow', 'everyone-to-staff'), // erin directly in everyone; dave in support ⊂ staff
      r(BOB, ALICE, 'allow', 'everyone-to-staff'),
      r(CAROL, ERIN, 'deny', 'default'), // erin is not staff
      r(FRANK, CAROL, 'deny', 'default'), // frank is in no group
      r(MALLORY, ALICE, 'deny', 'default'),
    ],
  },
  {
    name: 'tags from the document and given device tags',
    policy: `version: 1
default: allow
tags:
  sip:frank@example.com: [lobby]
  sips:alice@example.com: [secure-phone]
  sip:alice@example.com: [exec]
rules:
  - { id: lobby-internal-only, action: deny, from: { tags: [lobby] }, to: { domains: ["*.example.com", example.org] } }
  - { id: secure-only, action: deny, from: { any: true }, to: { tags: [secure-phone, vault] }, kinds: [message] }
  - { id: exec-calls, action: allow, from: { tags: [exec] }, to: { any: true }, kinds: [call] }
  - { id: untagged-calls, action: deny, from: { any: true }, to: { any: true }, kinds: [call] }
`,
    requests: [
      r(FRANK, ERIN, 'deny', 'lobby-internal-only'),
      r(FRANK, CAROL, 'deny', 'untagged-calls', { kind: 'call' }), // example.com itself is not *.example.com
      r(FRANK, CAROL, 'allow', 'default', { kind: 'message' }),
      r(CAROL, ALICE, 'deny', 'secure-only', { kind: 'message' }), // sips: and sip: tags merged
      r(CAROL, ALICE, 'allow', 'default', { kind: 'presence' }),
      r(ALICE, CAROL, 'allow', 'exec-calls', { kind: 'call' }),
      r(CAROL, DAVE, 'deny', 'untagged-calls', { kind: 'call' }),
      r(CAROL, DAVE, 'allow', 'exec-calls', { kind: 'call', fromTags: ['exec'] }), // a device tag given by the caller
      r(CAROL, DAVE, 'deny', 'secure-only', { kind: 'message', toTags: ['vault'] }),
      r(CAROL, ERIN, 'deny', 'lobby-internal-only', { fromTags: ['lobby'] }),
      r('tel:+15551234', CAROL, 'allow', 'exec-calls', { kind: 'call', fromTags: ['exec'] }), // no AOR, tags still count
    ],
  },
  {
    name: 'domains: exact and wildcard',
    policy: `version: 1
default: allow
rules:
  - { id: wild, action: deny, from: { any: true }, to: { domains: ["*.Corp.Example.COM."] } }
  - { id: exact, action: deny, from: { domains: [partner.example.net] }, to: { any: true } }
  - { id: ip, action: deny, from: { any: true }, to: { domains: ["192.0.2.7", "[2001:db8::1]"] } }
`,
    requests: [
      r(ALICE, 'sip:x@a.corp.example.com', 'deny', 'wild'),
      r(ALICE, 'sip:x@A.B.CORP.example.com', 'deny', 'wild'),
      r(ALICE, 'sip:x@corp.example.com', 'allow', 'default'), // the wildcard needs a label before the suffix
      r(ALICE, 'sip:x@evilcorp.example.com', 'allow', 'default'),
      r(ALICE, 'sip:x@a.corp.example.com.evil.org', 'allow', 'default'),
      r('sip:p@partner.example.net', ALICE, 'deny', 'exact'),
      r('sip:p@PARTNER.example.net.', ALICE, 'deny', 'exact'),
      r('sip:p@sub.partner.example.net', ALICE, 'allow', 'default'),
      r(ALICE, 'sip:x@192.0.2.7:5060', 'deny', 'ip'),
      r(ALICE, 'sip:x@[2001:db8::1]', 'deny', 'ip'),
      r(ALICE, 'sip:a.corp.example.com', 'deny', 'wild'), // a domain URI without user still has a domain
    ],
  },
  {
    name: 'default deny',
    policy: `version: 1
default: deny
rules:
  - { id: a-to-b, action: allow, from: { users: [sip:alice@example.com] }, to: { users: [sip:Bob@example.com] } }
`,
    requests: [r(ALICE, BOB, 'allow', 'a-to-b'), r(BOB, ALICE, 'deny', 'default'), r(ALICE, CAROL, 'deny', 'default')],
  },
  {
    name: 'default allow',
    policy: `version: 1
default: allow
rules:
  - { id: a-to-b, action: deny, from: { users: [sip:alice@example.com] }, to: { users: [sip:Bob@example.com] } }
`,
    requests: [r(ALICE, BOB, 'deny', 'a-to-b'), r(BOB, ALICE, 'allow', 'default'), r(ALICE, CAROL, 'allow', 'default')],
  },
  {
    name: 'first match wins: allow before deny',
    policy: `version: 1
default: deny
${GROUPS}
rules:
  - { id: alice-to-carol, action: allow, from: { users: [sip:alice@example.com] }, to: { users: [sip:carol@example.com] } }
  - { id: sales-to-nobody, action: deny, from: { groups: [sales] }, to: { any: true } }
  - { id: all, action: allow, from: { any: true }, to: { any: true } }
`,
    requests: [
      r(ALICE, CAROL, 'allow', 'alice-to-carol'),
      r(ALICE, DAVE, 'deny', 'sales-to-nobody'),
      r(BOB, CAROL, 'deny', 'sales-to-nobody'),
      r(CAROL, ALICE, 'allow', 'all'),
    ],
  },
  {
    name: 'first match wins: deny before allow',
    policy: `version: 1
default: allow
${GROUPS}
rules:
  - { id: sales-to-nobody, action: deny, from: { groups: [sales] }, to: { any: true } }
  - { id: alice-to-carol, action: allow, from: { users: [sip:alice@example.com] }, to: { users: [sip:carol@example.com] } }
`,
    requests: [r(ALICE, CAROL, 'deny', 'sales-to-nobody'), r(CAROL, ALICE, 'allow', 'default')],
  },
  {
    name: 'kinds filter which rules apply',
    policy: `version: 1
default: deny
rules:
  - { id: msg-only, action: allow, from: { any: true }, to: { users: [sip:carol@example.com] }, kinds: [message] }
  - { id: no-presence, action: deny, from: { any: true }, to: { any: true }, kinds: [presence] }
  - { id: certs, action: allow, from: { any: true }, to: { any: true }, kinds: [certificate-query, key-query, presence, call] }
`,
    requests: [
      r(ALICE, CAROL, 'allow', 'msg-only', { kind: 'message' }),
      r(ALICE, CAROL, 'allow', 'certs', { kind: 'call' }),
      r(ALICE, CAROL, 'deny', 'no-presence', { kind: 'presence' }),
      r(ALICE, CAROL, 'allow', 'certs', { kind: 'certificate-query' }),
      r(ALICE, CAROL, 'allow', 'certs', { kind: 'key-query' }),
      r(ALICE, DAVE, 'deny', 'default', { kind: 'message' }),
    ],
  },
  {
    name: 'any, and selectors OR-ed within one side',
    policy: `version: 1
default: deny
${GROUPS}
rules:
  - id: mixed
    action: allow
    from: { users: [sip:frank@example.com], groups: [support], domains: [branch.example.com] }
    to: { any: true, users: [sip:nobody@example.com] }
  - { id: to-any-from-any, action: deny, from: { any: true }, to: { any: true } }
`,
    requests: [
      r(FRANK, ALICE, 'allow', 'mixed'),
      r(DAVE, 'tel:+15551234', 'allow', 'mixed'),
      r(ERIN, MALLORY, 'allow', 'mixed'),
      r(ALICE, FRANK, 'deny', 'to-any-from-any'),
      r('not a uri', 'also not', 'deny', 'to-any-from-any'),
    ],
  },
  {
    name: 'external callers from other domains',
    policy: `version: 1
default: allow
rules:
  - { id: partners, action: allow, from: { domains: ["*.partner.example.net", partner.example.net] }, to: { any: true } }
  - { id: no-outsiders, action: deny, from: { any: true }, to: { groups: [inside] } }
groups:
  inside: [sip:alice@example.com, sip:carol@example.com]
`,
    requests: [
      r(MALLORY, ALICE, 'deny', 'no-outsiders'),
      r('sip:p@partner.example.net', ALICE, 'allow', 'partners'),
      r('sip:p@eu.partner.example.net', ALICE, 'allow', 'partners'),
      r('sip:p@partner.example.net.evil.org', ALICE, 'deny', 'no-outsiders'),
      r(MALLORY, DAVE, 'allow', 'default'),
    ],
  },
  {
    name: 'sips, parameters, ports, case and escapes are canonicalised',
    policy: `version: 1
default: deny
rules:
  - { id: ab, action: allow, from: { users: ["sips:alice@EXAMPLE.COM;transport=tls"] }, to: { users: ["<sip:Bob@Example.com:5061>"] } }
`,
    requests: [
      r('sips:alice@example.com:5061;transport=tls?subject=x', 'sip:Bob@EXAMPLE.com;user=phone', 'allow', 'ab'),
      r('<sip:al%69ce@Example.Com.>', ' sips:Bob@example.com ', 'allow', 'ab'),
      r('sip:alice:secret@example.com', BOB, 'allow', 'ab'),
      r('sip:ALICE@example.com', BOB, 'deny', 'default'), // the user part is case-sensitive
      r(ALICE, 'sip:bob@example.com', 'deny', 'default'),
    ],
  },
];

describe('PolicyEngine decisions (SPEC POL-2)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const engine = new PolicyEngine(parsePolicy(c.policy));
      for (const q of c.requests) {
        const kinds = q.kind ? [q.kind] : REQUEST_KINDS;
        for (const kind of kinds) {
          const d = engine.decide({ from: q.from, to: q.to, kind, ...(q.fromTags ? { fromTags: q.fromTags } : {}), ...(q.toTags ? { toTags: q.toTags } : {}) });
          const what = `${q.from} -> ${q.to} (${kind}${q.fromTags ? ` from tags ${q.fromTags.join(',')}` : ''}${q.toTags ? ` to tags ${q.toTags.join(',')}` : ''})`;
          assert.equal(d.action, q.expect, `${what}: ${d.reason}`);
          if (q.by === 'default') assert.deepEqual(d, { action: q.expect, reason: 'default' }, what);
          else assert.deepEqual(d, { action: q.expect, ruleId: q.by, reason: `rule ${q.by}` }, what);
        }
      }
    });
  }

  it('the same document decides the same in YAML and JSON', () => {
    for (const c of CASES) {
      const yaml = parsePolicy(c.policy, 'yaml');
      const json = parsePolicy(JSON.stringify(yaml, null, 2));
      assert.deepEqual(json, yaml, c.name);
      assert.deepEqual(validatePolicy(yaml), yaml, `${c.name}: a checked document is a fixed point`);
    }
  });

  it('allowAll allows everything, with reason default', () => {
    const e = PolicyEngine.allowAll();
    for (const kind of REQUEST_KINDS) assert.deepEqual(e.decide({ from: MALLORY, to: 'garbage', kind }), { action: 'allow', reason: 'default' });
    assert.deepEqual(e.document, { version: 1, default: 'allow', groups: {}, tags: {}, rules: [] });
  });

  it('a document with no rules applies its default', () => {
    const e = new PolicyEngine(parsePolicy('version: 1\ndefault: deny\n'));
    assert.deepEqual(e.decide({ from: ALICE, to: BOB, kind: 'call' }), { action: 'deny', reason: 'default' });
  });

  it('keeps the canonical document, and checks a document given directly', () => {
    const doc = parsePolicy(`version: 1\ndefault: deny\n${GROUPS}\nrules:\n  - { id: x, action: allow, from: { groups: ["@sales"] }, to: { domains: [Example.COM] }, kinds: [call, call] }\n`);
    const e = new PolicyEngine(doc);
    assert.deepEqual(e.document, doc);
    assert.deepEqual(doc.groups.sales, [ALICE, BOB]);
    assert.deepEqual(doc.rules[0], { id: 'x', action: 'allow', from: { groups: ['sales'] }, to: { domains: ['example.com'] }, kinds: ['call'] });
    const cyclic: PolicyDocument = { version: 1, default: 'deny', groups: { a: ['@b'], b: ['@a'] }, tags: {}, rules: [] };
    assert.throws(() => new PolicyEngine(cyclic), (e: unknown) => e instanceof PolicyError && e.problems[0]?.path === 'groups.b[0]');
  });

  it('rejects an unknown request kind as a programming error', () => {
    const e = new PolicyEngine(parsePolicy('version: 1\ndefault: deny\nrules: [{ id: a, action: allow, from: { any: true }, to: { any: true } }]'));
    assert.throws(() => e.decide({ from: ALICE, to: BOB, kind: 'fax' as RequestKind }), TypeError);
  });

  it('a group named like an Object.prototype key is a plain group', () => {
    const doc = parsePolicy('{"version":1,"default":"deny","groups":{"__proto__":["sip:alice@example.com"],"constructor":["@__proto__"]},"rules":[{"id":"p","action":"allow","from":{"groups":["constructor"]},"to":{"any":true}}]}');
    assert.deepEqual(Object.keys(doc.groups), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(doc.groups), Object.prototype);
    const e = new PolicyEngine(doc);
    assert.equal(e.decide({ from: ALICE, to: BOB, kind: 'call' }).ruleId, 'p');
    assert.equal(e.decide({ from: BOB, to: ALICE, kind: 'call' }).reason, 'default');
  });

  it('canonicalPolicyAor', () => {
    const table: [string, string | undefined][] = [
      ['sip:alice@example.com', 'sip:alice@example.com'],
      ['sips:alice@EXAMPLE.com', 'sip:alice@example.com'],
      ['SIP:alice@example.com:5060;transport=udp;lr?x=y', 'sip:alice@example.com'],
      ['<sip:al%69ce@example.com.>', 'sip:alice@example.com'],
      ['sip:Alice@example.com', 'sip:Alice@example.com'],
      ['sip:example.com', undefined],
      ['alice@example.com', undefined],
      ['tel:+15551234', undefined],
      ['mailto:alice@example.com', undefined],
      ['sip:alice@exa mple.com', undefined],
      ['', undefined],
    ];
    for (const [input, want] of table) assert.equal(canonicalPolicyAor(input), want, input);
  });
});

describe('PolicyEngine at the size limits', () => {
  /** 9,999 user-to-user rules and a catch-all: 10,000 rules, the limit. */
  function bigDocument(): PolicyDocument {
    const rules: PolicyRule[] = [];
    for (let i = 0; i < 9_999; i++) {
      rules.push({
        id: `r${i}`,
        action: i % 2 === 0 ? 'allow' : 'deny',
        from: { users: [`sip:u${i}@example.com`], ...(i % 10 === 0 ? { groups: [`g${i % 7}`] } : {}) },
        to: { users: [`sip:v${i}@example.com`], ...(i % 3 === 0 ? { domains: [`*.d${i}.example.net`] } : {}) },
        ...(i % 5 === 0 ? { kinds: ['call'] as RequestKind[] } : {}),
      });
    }
    rules.push({ id: 'last', action: 'deny', from: { any: true }, to: { any: true } });
    const groups: Record<string, string[]> = {};
    for (let g = 0; g < 7; g++) groups[`g${g}`] = [`sip:member${g}@example.com`];
    return { version: 1, default: 'allow', groups, tags: {}, rules };
  }

  it('evaluates a 10,000-rule document correctly', () => {
    const doc = validatePolicy(bigDocument());
    assert.equal(doc.rules.length, 10_000);
    const e = new PolicyEngine(doc);
    const expectRule = (from: string, to: string, kind: RequestKind, id: string, action: 'allow' | 'deny'): void =>
      assert.deepEqual(e.decide({ from, to, kind }), { action, ruleId: id, reason: `rule ${id}` }, `${from} -> ${to} ${kind}`);
    expectRule('sip:u0@example.com', 'sip:v0@example.com', 'call', 'r0', 'allow');
    expectRule('sip:u0@example.com', 'sip:v0@example.com', 'message', 'last', 'deny'); // r0 is call-only
    expectRule('sip:u1@example.com', 'sip:v1@example.com', 'message', 'r1', 'deny');
    expectRule('sip:u9998@example.com', 'sip:v9998@example.com', 'presence', 'r9998', 'allow');
    expectRule('sip:u5000@example.com', 'sip:v5001@example.com', 'call', 'last', 'deny');
    expectRule('sip:u9@example.com', 'sip:anyone@x.d9.example.net', 'call', 'r9', 'deny');
    expectRule('sip:member3@example.com', 'sip:v10@example.com', 'call', 'r10', 'allow'); // g3 = g(10 % 7)
    expectRule('sip:member3@example.com', 'sip:v9880@example.com', 'call', 'r9880', 'allow'); // 9880 % 10 = 0, 9880 % 7 = 3
    expectRule('sip:member3@example.com', 'sip:v9881@example.com', 'call', 'last', 'deny');
    expectRule('sip:member4@example.com', 'sip:v10@example.com', 'call', 'last', 'deny');
  });

  it('finds the lowest matching rule when many rules match', () => {
    const rules: PolicyRule[] = [];
    for (let i = 0; i < 10_000; i++) {
      rules.push({ id: `any${i}`, action: i === 9_999 ? 'allow' : 'deny', from: { any: true }, to: { domains: [i < 5000 ? `d${i}.example.com` : 'example.com'] } });
    }
    const e = new PolicyEngine({ version: 1, default: 'allow', groups: {}, tags: {}, rules });
    assert.equal(e.decide({ from: ALICE, to: 'sip:x@example.com', kind: 'call' }).ruleId, 'any5000');
    assert.equal(e.decide({ from: ALICE, to: 'sip:x@d4999.example.com', kind: 'call' }).ruleId, 'any4999');
    assert.equal(e.decide({ from: ALICE, to: 'sip:x@other.example', kind: 'call' }).reason, 'default');
    // Many decisions in a row reuse the scratch marks without leaking state between them.
    for (let i = 0; i < 2000; i++) {
      const d = e.decide({ from: ALICE, to: `sip:x@d${i}.example.com`, kind: 'message' });
      assert.equal(d.ruleId, `any${i}`);
      assert.equal(e.decide({ from: ALICE, to: 'sip:x@nowhere.example', kind: 'message' }).reason, 'default');
    }
  });

  it('resolves a chain of 1,000 nested groups without recursion', () => {
    const groups: Record<string, string[]> = { g0: ['sip:bottom@example.com'] };
    for (let i = 1; i < 1000; i++) groups[`g${i}`] = [`@g${i - 1}`, `sip:m${i}@example.com`];
    const doc = validatePolicy({
      version: 1,
      default: 'deny',
      groups,
      rules: [{ id: 'top', action: 'allow', from: { groups: ['g999'] }, to: { groups: ['g0'] } }],
    });
    const e = new PolicyEngine(doc);
    assert.equal(e.decide({ from: 'sip:m500@example.com', to: 'sip:bottom@example.com', kind: 'call' }).ruleId, 'top');
    assert.equal(e.decide({ from: 'sip:bottom@example.com', to: 'sip:m1@example.com', kind: 'call' }).reason, 'default');
  });
});
