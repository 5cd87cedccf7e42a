/**
 * Checking of connection-policy documents (SPEC POL-2): every bad document is refused with
 * a PolicyError that lists all its problems at once, each at its path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError, type PolicyProblem } from '../../../src/errors.js';
import { detectPolicyFormat, MAX_POLICY_BYTES, parsePolicy, validatePolicy } from '../../../src/services/policy/index.js';

/** The problems of a document (text: parsed with auto-detection; otherwise validated as a value). */
function problemsOf(doc: unknown, format?: 'yaml' | 'json'): readonly PolicyProblem[] {
  try {
    if (typeof doc === 'string') parsePolicy(doc, format);
    else validatePolicy(doc);
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, 'SIPHER_ERR_POLICY');
    assert.equal(e.httpStatus, 400);
    assert.ok(e.problems.length > 0);
    return e.problems;
  }
  assert.fail('document was accepted');
}

/** A valid rule, to build bad documents around. */
const OK_RULE = '  - { id: ok, action: allow, from: { any: true }, to: { any: true } }\n';
const HEAD = 'version: 1\ndefault: deny\n';

interface Bad {
  name: string;
  doc: unknown;
  format?: 'yaml' | 'json';
  /** Expected problems in order: path and a pattern its message must match. */
  problems: [string, RegExp][];
}

const BAD: Bad[] = [
  {
    name: 'unknown top-level key (and the version it was meant to be)',
    doc: 'versoin: 1\ndefault: deny\n',
    problems: [
      ['versoin', /unknown key "versoin" \(expected one of version, default, groups, tags, rules\)/],
      ['version', /missing/],
    ],
  },
  {
    name: 'unknown key in a rule',
    doc: `${HEAD}rules:\n  - { id: a, acton: allow, from: { any: true }, to: { any: true } }\n`,
    problems: [
      ['rules[0].acton', /unknown key "acton"/],
      ['rules[0].action', /missing/],
    ],
  },
  {
    name: 'unknown key in a selector',
    doc: `${HEAD}groups: { staff: [] }\nrules:\n  - { id: a, action: allow, from: { grups: [staff] }, to: { any: true } }\n`,
    problems: [['rules[0].from.grups', /unknown key "grups" \(expected one of any, users, groups, tags, domains\)/]],
  },
  {
    name: 'unknown group in a selector',
    doc: `${HEAD}groups: { sales: [] }\nrules:\n${OK_RULE}  - { id: b, action: deny, from: { groups: [slaes] }, to: { any: true } }\n`,
    problems: [['rules[1].from.groups[0]', /^unknown group "slaes"$/]],
  },
  {
    name: 'unknown group referenced by a group',
    doc: `${HEAD}groups:\n  sales: [sip:alice@example.com]\n  staff: [sip:carol@example.com, "@slaes"]\n`,
    problems: [['groups.staff[1]', /^unknown group "slaes"$/]],
  },
  {
    name: 'group cycle of two',
    doc: `${HEAD}groups:\n  a: [sip:x@example.com, "@b"]\n  b: ["@a"]\n`,
    problems: [['groups.b[0]', /^group cycle: a -> b -> a$/]],
  },
  {
    name: 'group containing itself',
    doc: `${HEAD}groups:\n  a: ["@a"]\n`,
    problems: [['groups.a[0]', /^group cycle: a -> a$/]],
  },
  {
    name: 'group cycle of three, and a second cycle',
    doc: `${HEAD}groups:\n  a: ["@b"]\n  b: ["@c"]\n  c: [sip:x@example.com, "@a"]\n  d: ["@e"]\n  e: ["@d"]\n`,
    problems: [
      ['groups.c[1]', /^group cycle: a -> b -> c -> a$/],
      ['groups.e[0]', /^group cycle: d -> e -> d$/],
    ],
  },
  {
    name: 'duplicate rule id',
    doc: `${HEAD}rules:\n${OK_RULE}  - { id: other, action: deny, from: { any: true }, to: { any: true } }\n${OK_RULE}`,
    problems: [['rules[2].id', /^duplicate rule id "ok" \(first used by rules\[0\]\)$/]],
  },
  {
    name: 'bad action',
    doc: `${HEAD}rules:\n  - { id: a, action: permit, from: { any: true }, to: { any: true } }\n`,
    problems: [['rules[0].action', /must be allow or deny, not "permit"/]],
  },
  {
    name: 'bad kind',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, from: { any: true }, to: { any: true }, kinds: [call, calls, sms] }\n`,
    problems: [
      ['rules[0].kinds[1]', /unknown request kind "calls" \(expected one of call, message, presence, certificate-query, key-query\)/],
      ['rules[0].kinds[2]', /unknown request kind "sms"/],
    ],
  },
  {
    name: 'kinds empty, and kinds not a list',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, from: { any: true }, to: { any: true }, kinds: [] }\n  - { id: b, action: allow, from: { any: true }, to: { any: true }, kinds: call }\n`,
    problems: [
      ['rules[0].kinds', /must not be empty/],
      ['rules[1].kinds', /must be a list of request kinds/],
    ],
  },
  {
    name: 'empty selector',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, from: {}, to: { any: true } }\n`,
    problems: [['rules[0].from', /^empty selector/]],
  },
  {
    name: 'missing selector, and a selector that is not a mapping',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, to: [any] }\n`,
    problems: [
      ['rules[0].from', /missing/],
      ['rules[0].to', /selector must be a mapping/],
    ],
  },
  {
    name: 'empty list in a selector',
    doc: `${HEAD}rules:\n  - { id: a, action: deny, from: { users: [] }, to: { any: true } }\n`,
    problems: [['rules[0].from.users', /must not be empty/]],
  },
  {
    name: 'any other than true',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, from: { any: false }, to: { any: "yes" } }\n`,
    problems: [
      ['rules[0].from.any', /must be true/],
      ['rules[0].to.any', /must be true/],
    ],
  },
  {
    name: 'bad AORs in a selector',
    doc: `${HEAD}rules:\n  - { id: a, action: allow, from: { users: [alice@example.com, "tel:+1555", sip:example.com, 42] }, to: { any: true } }\n`,
    problems: [
      ['rules[0].from.users[0]', /not a SIP AOR \(sip:user@domain\): "alice@example.com"/],
      ['rules[0].from.users[1]', /not a SIP AOR/],
      ['rules[0].from.users[2]', /not a SIP AOR/],
      ['rules[0].from.users[3]', /must be a string, not number 42/],
    ],
  },
  {
    name: 'bad AOR and non-string member in a group',
    doc: `${HEAD}groups:\n  staff: [sip:ok@example.com, "sip:bad user@example.com", 7, null]\n`,
    problems: [
      ['groups.staff[1]', /not a SIP AOR \(sip:user@domain\) or group reference \(@name\)/],
      ['groups.staff[2]', /must be a string, not number 7/],
      ['groups.staff[3]', /must be a string, not null/],
    ],
  },
  {
    name: 'bad AOR key and bad tags in the tags map',
    doc: `${HEAD}tags:\n  sip:alice@example.com: [ok-tag, "bad tag"]\n  bob@example.com: [x]\n  sip:carol@example.com: secure\n`,
    problems: [
      ['tags["sip:alice@example.com"][1]', /tag must be 1 to 64/],
      ['tags["bob@example.com"]', /not a SIP AOR/],
      ['tags["sip:carol@example.com"]', /must be a list of tags/],
    ],
  },
  {
    name: 'bad domain patterns',
    doc: `${HEAD}rules:\n  - { id: a, action: deny, from: { any: true }, to: { domains: ["exa mple.com", "*", "a.*.com", "*example.com", "-bad.com", "**.example.com", ""] } }\n`,
    problems: [0, 1, 2, 3, 4, 5, 6].map((i) => [`rules[0].to.domains[${i}]`, /not a domain \(example.com\) or domain pattern \(\*.example.com\)/] as [string, RegExp]),
  },
  {
    name: 'wrong version',
    doc: 'version: 2\ndefault: deny\n',
    problems: [['version', /unsupported format version 2: must be 1/]],
  },
  {
    name: 'version as a string',
    doc: '{ "version": "1", "default": "deny" }',
    problems: [['version', /unsupported format version "1"/]],
  },
  {
    name: 'YAML 1.1 booleans are not actions',
    doc: 'version: 1\ndefault: no\n',
    problems: [['default', /must be allow or deny, not "no"/]],
  },
  {
    name: 'bad and missing rule ids',
    doc: `${HEAD}rules:\n  - { id: "has space", action: allow, from: { any: true }, to: { any: true } }\n  - { action: allow, from: { any: true }, to: { any: true } }\n  - { id: ${'x'.repeat(65)}, action: allow, from: { any: true }, to: { any: true } }\n`,
    problems: [
      ['rules[0].id', /rule id must be 1 to 64/],
      ['rules[1].id', /missing/],
      ['rules[2].id', /rule id must be 1 to 64/],
    ],
  },
  {
    name: 'bad group name',
    doc: `${HEAD}groups:\n  "bad name": []\n  "": []\n`,
    problems: [
      ['groups["bad name"]', /group name must be 1 to 64/],
      ['groups[""]', /group name must be 1 to 64/],
    ],
  },
  {
    name: 'rule that is not a mapping; rules, groups and tags of the wrong type',
    doc: `${HEAD}rules:\n  - allow everything\n`,
    problems: [['rules[0]', /rule must be a mapping/]],
  },
  {
    name: 'sections of the wrong type',
    doc: `${HEAD}groups: [a]\ntags: 3\nrules: { id: a }\n`,
    problems: [
      ['groups', /must be a mapping of group name/],
      ['tags', /must be a mapping of AOR/],
      ['rules', /must be a list of rules/],
    ],
  },
  {
    name: 'document that is not a mapping',
    doc: '- version: 1\n',
    problems: [['', /document must be a mapping/]],
  },
  {
    name: 'empty document',
    doc: '   \n# only a comment\n',
    problems: [['', /document must be a mapping .*not null/]],
  },
  {
    name: 'YAML syntax error, with line and column',
    doc: 'version: 1\ndefault: deny\nrules:\n  - { id: a, action: allow\n  - id: b\n',
    problems: [['', /^YAML: .* at line \d+, column \d+$/]],
  },
  {
    name: 'YAML bad indentation, with line and column',
    doc: 'version: 1\ngroups:\n  a: [sip:x@example.com]\n b: []\n',
    problems: [['', /^YAML: .*at line 4, column 1$/]],
  },
  {
    name: 'YAML duplicate key',
    doc: 'version: 1\ndefault: allow\ndefault: deny\n',
    problems: [['', /^YAML: Map keys must be unique at line 3, column 1$/]],
  },
  {
    name: 'YAML with two documents',
    doc: 'version: 1\ndefault: deny\n---\nversion: 1\n',
    problems: [['', /^YAML: .*multiple documents.* at line 3, column 1$/]],
  },
  {
    name: 'YAML unresolved tag',
    doc: 'version: 1\ndefault: !allow deny\n',
    problems: [['', /^YAML: Unresolved tag: !allow at line 2, column 10$/]],
  },
  {
    name: 'JSON syntax error (trailing comma), with line and column',
    doc: '{\n  "version": 1,\n  "default": "deny",\n}\n',
    problems: [['', /^JSON: expected a double-quoted property name at line 4, column 1$/]],
  },
  {
    name: 'JSON syntax error (missing comma), with line and column',
    doc: '{\n  "version": 1\n  "default": "deny"\n}',
    problems: [['', /^JSON: expected ',' or '}' after property value at line 3, column 3$/]],
  },
  {
    name: 'JSON truncated',
    doc: '{ "version": 1, "rules": [',
    problems: [['', /^JSON: unexpected end of input at line 1, column 27$/]],
  },
  {
    name: 'JSON raw control character in a string',
    doc: '{"version": 1, "default": "de\nny"}',
    problems: [['', /^JSON: unterminated string or invalid escape or control character in string at line 1, column 27$/]],
  },
  {
    name: 'JSON given as YAML-ish flow mapping',
    doc: '{ version: 1, default: deny }',
    problems: [['', /^JSON: expected a double-quoted property name at line 1, column 3$/]],
  },
  {
    name: 'JSON duplicate keys, every one',
    doc: '{\n  "version": 1,\n  "default": "allow",\n  "default": "deny",\n  "groups": { "a": [], "a": [] }\n}',
    problems: [
      ['', /^JSON: duplicate key "default" at line 4, column 3$/],
      ['', /^JSON: duplicate key "a" at line 5, column 24$/],
    ],
  },
  {
    name: 'JSON explicitly, for YAML text',
    doc: 'version: 1\ndefault: deny\n',
    format: 'json',
    problems: [['', /^JSON: unexpected character "v" at line 1, column 1$/]],
  },
];

describe('policy validation: bad documents (SPEC POL-2)', () => {
  for (const b of BAD) {
    it(b.name, () => {
      const got = problemsOf(b.doc, b.format);
      assert.deepEqual(
        got.map((p) => p.path),
        b.problems.map(([path]) => path),
        `paths of ${JSON.stringify(got)}`,
      );
      b.problems.forEach(([, re], i) => assert.match(got[i]!.message, re, `problem ${i} at ${got[i]!.path}`));
    });
  }

  it('missing and bad default', () => {
    assert.deepEqual(problemsOf({ version: 1 }), [{ path: 'default', message: 'missing: give allow or deny' }]);
    assert.deepEqual(problemsOf({ version: 1, default: 'reject' }), [{ path: 'default', message: 'must be allow or deny, not "reject"' }]);
  });

  it('reports every problem of a document at once, in document order', () => {
    const doc = `versoin: 1
default: maybe
groups:
  sales: [sip:alice@example.com, bob]
  staff: ["@sales", "@staff"]
tags:
  sip:alice@example.com: [secure phone]
rules:
  - { id: a, action: permit, from: {}, to: { grups: [sales] }, kinds: [cal] }
  - { id: a, action: allow, from: { groups: [slaes] }, to: { domains: ["*"] } }
`;
    const problems = problemsOf(doc);
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        'versoin',
        'version',
        'default',
        'groups.sales[1]',
        'tags["sip:alice@example.com"][0]',
        'rules[0].action',
        'rules[0].from',
        'rules[0].to.grups',
        'rules[0].kinds[0]',
        'rules[1].id',
        'rules[1].from.groups[0]',
        'rules[1].to.domains[0]',
        'groups.staff[1]',
      ],
    );
    assert.match(problems.at(-1)!.message, /group cycle: staff -> staff/);
    const err = (() => {
      try {
        parsePolicy(doc);
      } catch (e) {
        return e as PolicyError;
      }
      return undefined;
    })();
    assert.equal(err?.message, 'policy versoin: unknown key "versoin" (expected one of version, default, groups, tags, rules) (and 12 more)');
  });

  it('refuses more than 10,000 rules', () => {
    const rule = { id: 'r', action: 'allow', from: { any: true }, to: { any: true } };
    const rules = Array.from({ length: 10_001 }, (_, i) => ({ ...rule, id: `r${i}` }));
    assert.deepEqual(problemsOf({ version: 1, default: 'deny', rules }), [{ path: 'rules', message: '10001 rules, over the limit of 10000' }]);
    assert.equal(validatePolicy({ version: 1, default: 'deny', rules: rules.slice(0, 10_000) }).rules.length, 10_000);
  });

  it('refuses more than 100,000 group members in all', () => {
    const members = Array.from({ length: 50_001 }, (_, i) => `sip:u${i}@example.com`);
    assert.deepEqual(problemsOf({ version: 1, default: 'deny', groups: { a: members, b: members } }), [
      { path: 'groups', message: '100002 members in all, over the limit of 100000' },
    ]);
    assert.equal(Object.keys(validatePolicy({ version: 1, default: 'deny', groups: { a: members, b: members.slice(2) } }).groups).length, 2);
  });

  it('refuses nested groups that resolve to too many memberships', () => {
    // A chain g1 ⊃ g2 ⊃ … where each adds one member: n groups resolve to about n²/2 memberships.
    const groups: Record<string, string[]> = { g0: ['sip:m0@example.com'] };
    for (let i = 1; i < 1500; i++) groups[`g${i}`] = [`@g${i - 1}`, `sip:m${i}@example.com`];
    assert.deepEqual(problemsOf({ version: 1, default: 'deny', groups }), [{ path: 'groups', message: 'nested groups resolve to more than 1000000 memberships' }]);
  });

  it('reports a cycle through 5,000 groups once, shortened, without recursion', () => {
    const groups: Record<string, string[]> = {};
    for (let i = 0; i < 5000; i++) groups[`g${i}`] = [`@g${(i + 1) % 5000}`];
    assert.deepEqual(problemsOf({ version: 1, default: 'deny', groups }), [
      { path: 'groups.g4999[0]', message: 'group cycle: g0 -> g1 -> g2 -> g3 -> ... -> g4999 -> g0 (5000 groups)' },
    ]);
  });

  it('refuses a document over 1 MiB before parsing it', () => {
    const doc = `${HEAD}# ${'x'.repeat(MAX_POLICY_BYTES)}\n`;
    assert.deepEqual(problemsOf(doc), [{ path: '', message: `document is ${Buffer.byteLength(doc)} bytes, over the limit of ${MAX_POLICY_BYTES}` }]);
    // Bytes, not characters: 2-byte characters count twice.
    const wide = `${HEAD}# ${'é'.repeat(MAX_POLICY_BYTES / 2)}\n`;
    assert.match(problemsOf(wide)[0]!.message, /over the limit/);
  });

  it('refuses JSON nested too deeply, and a YAML alias bomb', () => {
    assert.match(problemsOf('['.repeat(100_000))[0]!.message, /^JSON: nesting deeper than 64 levels at line 1, column 65$/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    assert.match(problemsOf(bomb)[0]!.message, /^YAML: .*alias/i);
  });

  it('lists at most 1000 problems, then says how many more', () => {
    const rules = Array.from({ length: 1500 }, () => ({ id: 'bad id', action: 'allow', from: { any: true }, to: { any: true } }));
    const problems = problemsOf({ version: 1, default: 'deny', rules });
    assert.equal(problems.length, 1001);
    assert.deepEqual(problems.at(-1), { path: '', message: 'and 500 more problems' });
  });
});

describe('policy parsing: good documents', () => {
  const yaml = `# Connection policy
version: 1
default: deny
groups:
  sales: [sip:alice@example.com]
rules:
  - id: sales-calls
    action: allow
    from: { groups: [sales] }
    to: { any: true }
    kinds: [call]
`;
  const expected = {
    version: 1,
    default: 'deny',
    groups: { sales: ['sip:alice@example.com'] },
    tags: {},
    rules: [{ id: 'sales-calls', action: 'allow', from: { groups: ['sales'] }, to: { any: true }, kinds: ['call'] }],
  };

  it('parses YAML and JSON to the same document, detecting the format', () => {
    assert.deepEqual(parsePolicy(yaml), expected);
    assert.deepEqual(parsePolicy(JSON.stringify(expected)), expected);
    assert.deepEqual(parsePolicy(`\uFEFF  \n${JSON.stringify(expected, null, 2)}`), expected);
    assert.deepEqual(parsePolicy(`\uFEFF${yaml}`), expected);
    // JSON is YAML: an explicit yaml format reads a JSON text too.
    assert.deepEqual(parsePolicy(JSON.stringify(expected), 'yaml'), expected);
  });

  it('detects the format from the first significant character', () => {
    assert.equal(detectPolicyFormat('{"version": 1}'), 'json');
    assert.equal(detectPolicyFormat('\n\t [ ]'), 'json');
    assert.equal(detectPolicyFormat('# {\nversion: 1'), 'yaml');
    assert.equal(detectPolicyFormat(''), 'yaml');
  });

  it('fills absent groups, tags and rules, and accepts null for them', () => {
    const empty = { version: 1, default: 'allow', groups: {}, tags: {}, rules: [] };
    assert.deepEqual(parsePolicy('version: 1\ndefault: allow\n'), empty);
    assert.deepEqual(parsePolicy('version: 1\ndefault: allow\ngroups:\ntags:\nrules:\n'), empty);
  });

  it('canonicalises AORs, domains, group references and repeated entries', () => {
    const doc = parsePolicy(`version: 1
default: allow
groups:
  a: ["sips:Alice@EXAMPLE.com;transport=tls", "<sip:bob@example.com:5060>"]
  b: ["@a"]
tags:
  SIP:carol@Example.com: [t1, t2, t1]
rules:
  - { id: x, action: deny, from: { users: [sip:d@EXAMPLE.com, sips:d@example.com], groups: ["@b", b] }, to: { domains: [Example.COM., "*.Example.com"], tags: [t1] }, kinds: [message, call, message] }
`);
    assert.deepEqual(doc, {
      version: 1,
      default: 'allow',
      groups: { a: ['sip:Alice@example.com', 'sip:bob@example.com'], b: ['@a'] },
      tags: { 'sip:carol@example.com': ['t1', 't2'] },
      rules: [
        {
          id: 'x',
          action: 'deny',
          from: { users: ['sip:d@example.com'], groups: ['b'] },
          to: { tags: ['t1'], domains: ['example.com', '*.example.com'] },
          kinds: ['message', 'call'],
        },
      ],
    });
  });
});
