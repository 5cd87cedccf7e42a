/**
 * Checks the attributes Sipher interprets while a description is parsed, so that a
 * malformed one is refused with its line number instead of surfacing later: `a=crypto`
 * (RFC 4568), `a=fingerprint` (RFC 8122), `a=setup`/`a=connection` (RFC 4145), `a=rtpmap`,
 * `a=fmtp`, `a=ptime` and the direction attributes (RFC 8866 §6), `a=rtcp-mux` (RFC 5761).
 * Every other attribute is only checked against the generic grammar and kept verbatim.
 * @module
 */
import { SipParseError } from '../errors.js';
import { parseCryptoAttribute } from './crypto-attribute.js';
import { parseFingerprint } from './fingerprint.js';
import type { Attribute } from './model.js';
import { isDirection, parseFmtp, parsePtime, parseRtpMap } from './rtp-attributes.js';
import { parseConnectionMode, parseSetup } from './setup.js';

/**
 * Per-section bookkeeping (one for the session level, one per media description).
 * @internal
 */
export interface AttributeScope {
  level: 'session' | 'media';
  cryptoTags: Set<number>;
  payloadTypes: Set<number>;
  seen: Set<string>;
  direction?: string;
}

/**
 * A fresh {@link AttributeScope}.
 * @internal
 */
export function newAttributeScope(level: 'session' | 'media'): AttributeScope {
  return { level, cryptoTags: new Set(), payloadTypes: new Set(), seen: new Set() };
}

function needValue(a: Attribute): string {
  if (a.value === undefined) throw new SipParseError(`a=${a.name} needs a value`);
  return a.value;
}

function noValue(a: Attribute): void {
  if (a.value !== undefined) throw new SipParseError(`a=${a.name} takes no value`);
}

function mediaOnly(a: Attribute, scope: AttributeScope, ref: string): void {
  if (scope.level !== 'media') throw new SipParseError(`a=${a.name} is a media-level attribute (${ref})`);
}

function once(a: Attribute, scope: AttributeScope): void {
  if (scope.seen.has(a.name)) throw new SipParseError(`duplicate a=${a.name}`);
  scope.seen.add(a.name);
}

/**
 * Checks one attribute found in `scope`; throws {@link SipParseError} naming the fault (the
 * parser adds the line number).
 * @internal
 */
export function checkAttribute(a: Attribute, scope: AttributeScope): void {
  switch (a.name) {
    case 'crypto': {
      // RFC 4568 §4: media level only; §4.1: the tag is unique within the media description.
      mediaOnly(a, scope, 'RFC 4568 §4');
      const c = parseCryptoAttribute(needValue(a));
      if (scope.cryptoTags.has(c.tag)) throw new SipParseError(`duplicate a=crypto tag ${c.tag}`);
      scope.cryptoTags.add(c.tag);
      return;
    }
    case 'fingerprint':
      parseFingerprint(needValue(a));
      return;
    case 'setup':
      once(a, scope);
      parseSetup(needValue(a));
      return;
    case 'connection':
      once(a, scope);
      parseConnectionMode(needValue(a));
      return;
    case 'rtpmap': {
      mediaOnly(a, scope, 'RFC 8866 §6.6');
      const r = parseRtpMap(needValue(a));
      if (scope.payloadTypes.has(r.payloadType)) throw new SipParseError(`duplicate a=rtpmap for payload type ${r.payloadType}`);
      scope.payloadTypes.add(r.payloadType);
      return;
    }
    case 'fmtp':
      mediaOnly(a, scope, 'RFC 8866 §6.15');
      parseFmtp(needValue(a));
      return;
    case 'ptime':
      mediaOnly(a, scope, 'RFC 8866 §6.4');
      parsePtime(a.value);
      return;
    case 'rtcp-mux':
      mediaOnly(a, scope, 'RFC 5761 §5.1.1');
      noValue(a);
      return;
    default:
      if (isDirection(a.name)) {
        noValue(a);
        // RFC 8866 §6.7: one direction per level.
        if (scope.direction !== undefined) throw new SipParseError(`conflicting direction attributes a=${scope.direction} and a=${a.name}`);
        scope.direction = a.name;
      }
  }
}
