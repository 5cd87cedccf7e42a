/**
 * Connection-oriented media (RFC 4145): `a=setup` says which end opens the TCP connection,
 * `a=connection` whether a new one is needed. Used with `TCP/TLS` media (RFC 8122) for the
 * peer-to-peer data channel (SPEC PEER-1, PEER-3).
 * @module
 */
import { SipParseError } from '../errors.js';

/** `a=setup` values (RFC 4145 §4). */
export type SetupRole = 'active' | 'passive' | 'actpass' | 'holdconn';

/** `a=connection` values (RFC 4145 §5). */
export type ConnectionMode = 'new' | 'existing';

/** Parses an `a=setup` value. ABNF literals are case-insensitive; the result is lower case. */
export function parseSetup(value: string | undefined): SetupRole {
  const v = value?.toLowerCase();
  if (v === 'active' || v === 'passive' || v === 'actpass' || v === 'holdconn') return v;
  throw new SipParseError('malformed a=setup (expected active, passive, actpass or holdconn)');
}

/** Parses an `a=connection` value (RFC 4145 §5). */
export function parseConnectionMode(value: string | undefined): ConnectionMode {
  const v = value?.toLowerCase();
  if (v === 'new' || v === 'existing') return v;
  throw new SipParseError('malformed a=connection (expected new or existing)');
}

/**
 * The `a=setup` of an answer (RFC 4145 §4.1): `active` answers `passive`, `passive` answers
 * `active`, `actpass` lets the answerer choose (`preferred`), `holdconn` answers `holdconn`.
 */
export function answerSetup(offered: SetupRole, preferred: 'active' | 'passive' = 'active'): SetupRole {
  switch (offered) {
    case 'active': return 'passive';
    case 'passive': return 'active';
    case 'actpass': return preferred;
    case 'holdconn': return 'holdconn';
  }
}

/**
 * The offerer's role once the answer is in (RFC 4145 §4.1), or `undefined` if the answer's
 * setup is not one the offer allows (an answer never says `actpass`).
 */
export function offererRole(offered: SetupRole, answered: SetupRole): 'active' | 'passive' | 'holdconn' | undefined {
  if (answered === 'holdconn') return 'holdconn';
  if (answered === 'actpass' || offered === 'holdconn') return undefined;
  if (answered === 'active') return offered === 'passive' || offered === 'actpass' ? 'passive' : undefined;
  return offered === 'active' || offered === 'actpass' ? 'active' : undefined;
}
