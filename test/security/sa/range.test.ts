/** Encryption ranges (src/security/sa/range.ts): parsing, formatting, the sealed-header rule. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SaSettingError } from '../../../src/errors.js';
import { CLEAR_HEADERS, formatRange, isSealedHeader, parseRange, RANGE_KINDS, type Range } from '../../../src/security/sa/index.js';

function partial(r: Range): Extract<Range, { kind: 'partial' }> {
  assert.equal(r.kind, 'partial');
  return r as Extract<Range, { kind: 'partial' }>;
}

function invalid(text: string): void {
  assert.throws(() => parseRange(text), (e: unknown) => {
    assert.ok(e instanceof SaSettingError, `${JSON.stringify(text)}: ${String(e)}`);
    assert.equal(e.reason, 'invalid', JSON.stringify(text));
    return true;
  });
}

describe('parseRange / formatRange', () => {
  it('advertises whole and partial', () => {
    assert.deepEqual([...RANGE_KINDS], ['whole', 'partial']);
  });

  it('whole', () => {
    const r = parseRange('whole');
    assert.deepEqual(r, { kind: 'whole' });
    assert.equal(formatRange(r), 'whole');
    assert.equal(formatRange(parseRange('  whole \t')), 'whole', 'outer whitespace is trimmed');
  });

  it('partial (every non-clear header sealed)', () => {
    const r = partial(parseRange('partial'));
    assert.equal(r.sealed, undefined);
    assert.equal(formatRange(r), 'partial');
  });

  it('partial:From,To,Subject: names are lower-cased, compact forms expanded, the order kept', () => {
    const r = partial(parseRange('partial:From,To,Subject'));
    assert.deepEqual(r.sealed, new Set(['from', 'to', 'subject']));
    assert.equal(formatRange(r), 'partial:from,to,subject');
    assert.deepEqual(parseRange(formatRange(r)), r, 'canonical text parses back to the same range');
    const c = partial(parseRange('partial: f , t,s ,X-Custom-Header'));
    assert.deepEqual([...c.sealed!], ['from', 'to', 'subject', 'x-custom-header']);
    assert.equal(formatRange(c), 'partial:from,to,subject,x-custom-header');
  });

  it('partial: a repeated header is listed once; empty list items are skipped', () => {
    const r = partial(parseRange('partial:From,from,,F'));
    assert.deepEqual([...r.sealed!], ['from']);
  });

  it('round-trips every canonical form', () => {
    for (const t of ['whole', 'partial', 'partial:from', 'partial:from,to,subject,authorization', 'partial:user-agent']) {
      assert.equal(formatRange(parseRange(t)), t);
    }
  });

  it('rejects unknown ranges', () => {
    for (const t of ['', 'Whole', 'WHOLE', 'none', 'partial;From', 'partial From', 'partialx', 'whole:From', 'partial:From;To']) invalid(t);
  });

  it('rejects an empty header list', () => {
    for (const t of ['partial:', 'partial: ', 'partial:,', 'partial: , ,']) invalid(t);
  });

  it('rejects a clear header listed, under any spelling', () => {
    for (const h of ['Via', 'v', 'VIA', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Route', 'Record-Route', 'Max-Forwards', 'Content-Length', 'l']) {
      invalid(`partial:${h}`);
      invalid(`partial:From,${h}`);
    }
  });

  it('rejects a header name that is not a token', () => {
    for (const t of ['partial:From To', 'partial:Fr@m', 'partial:<x>', 'partial:a"b', 'partial:From:To', 'partial:é']) invalid(t);
  });

  it('SaSettingError carries the 400 status of an invalid setting', () => {
    try {
      parseRange('nope');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof SaSettingError);
      assert.equal(e.reason, 'invalid');
      assert.equal(e.sipStatus, 400);
    }
  });
});

describe('isSealedHeader', () => {
  const all = partial(parseRange('partial'));
  const some = partial(parseRange('partial:From,Subject'));

  it('never seals the clear headers', () => {
    assert.deepEqual([...CLEAR_HEADERS].sort(), ['call-id', 'contact', 'content-length', 'cseq', 'max-forwards', 'record-route', 'route', 'via']);
    for (const k of CLEAR_HEADERS) {
      assert.equal(isSealedHeader(all, k), false, k);
      assert.equal(isSealedHeader(some, k), false, k);
    }
  });

  it('always seals Content-Type (the outer one names the sealed body)', () => {
    assert.equal(isSealedHeader(all, 'content-type'), true);
    assert.equal(isSealedHeader(some, 'content-type'), true);
  });

  it('plain partial seals every other header', () => {
    for (const k of ['from', 'to', 'subject', 'authorization', 'user-agent', 'x-anything']) assert.equal(isSealedHeader(all, k), true, k);
  });

  it('a listed partial seals exactly the headers named', () => {
    assert.equal(isSealedHeader(some, 'from'), true);
    assert.equal(isSealedHeader(some, 'subject'), true);
    for (const k of ['to', 'authorization', 'user-agent']) assert.equal(isSealedHeader(some, k), false, k);
  });
});
