/**
 * Redaction of session descriptions for logs (SPEC OPS-1): SRTP keys (`inline:` key||salt,
 * RFC 4568 §6.1, also inside `FEC_KEY=`) and certificate fingerprint values (RFC 8122 §5)
 * are replaced by `[redacted]`; everything else — lifetimes, MKIs, hash names, addresses —
 * is left as it is so a log still shows what was negotiated.
 * @module
 */

const INLINE_RE = /(inline:)[A-Za-z0-9+/=_-]+/gi;
const FINGERPRINT_RE = /(a=fingerprint:[ \t]*[A-Za-z0-9!#$%&'*+.^_`{|}~-]+[ \t]+)[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2})*/g;

/** `text` with every `inline:` key and every `a=fingerprint` value replaced by `[redacted]`. */
export function redactSdp(text: string): string {
  return text.replace(INLINE_RE, '$1[redacted]').replace(FINGERPRINT_RE, '$1[redacted]');
}
