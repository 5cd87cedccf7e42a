/** Mapping of SIP requests to the kinds the connection policy decides on (SPEC POL-2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestKind, type RequestKind } from '../../../src/services/policy/index.js';

describe('requestKind', () => {
  const table: [method: string, accept: string | undefined, event: string | undefined, kind: RequestKind | undefined][] = [
    ['INVITE', undefined, undefined, 'call'],
    ['INVITE', 'application/pkix-cert', 'presence', 'call'],
    ['MESSAGE', undefined, undefined, 'message'],
    ['SUBSCRIBE', undefined, 'presence', 'presence'],
    ['SUBSCRIBE', undefined, 'Presence ;id=7', 'presence'],
    ['PUBLISH', undefined, 'presence', 'presence'],
    ['NOTIFY', undefined, 'presence;id=1', 'presence'],
    ['SUBSCRIBE', undefined, 'dialog', undefined],
    ['SUBSCRIBE', undefined, 'presence.winfo', undefined],
    ['SUBSCRIBE', undefined, undefined, undefined],
    ['PUBLISH', undefined, 'sipher-key', undefined],
    ['NOTIFY', undefined, 'refer', undefined],
    ['OPTIONS', 'application/pkix-cert', undefined, 'certificate-query'],
    ['OPTIONS', 'Application/PKIX-Cert;q=0.5', undefined, 'certificate-query'],
    ['OPTIONS', 'application/sdp, application/pkix-cert', undefined, 'certificate-query'],
    ['OPTIONS', 'application/pkcs7-mime', undefined, 'certificate-query'],
    ['OPTIONS', 'application/sipher-public-key', undefined, 'key-query'],
    ['OPTIONS', 'application/pkix-cert, application/sipher-public-key', undefined, 'key-query'],
    ['OPTIONS', 'application/sdp', undefined, undefined],
    ['OPTIONS', undefined, undefined, undefined],
    ['OPTIONS', '', undefined, undefined],
    ['REGISTER', 'application/pkix-cert', undefined, undefined],
    ['BYE', undefined, undefined, undefined],
    ['ACK', undefined, undefined, undefined],
    ['CANCEL', undefined, undefined, undefined],
    ['REFER', undefined, undefined, undefined],
    ['INFO', undefined, undefined, undefined],
    ['invite', undefined, undefined, undefined], // methods are case-sensitive (RFC 3261 §7.1)
  ];
  for (const [method, accept, event, kind] of table) {
    it(`${method} Accept=${accept ?? '-'} Event=${event ?? '-'} → ${kind ?? 'undefined'}`, () => {
      assert.equal(requestKind(method, accept, event), kind);
    });
  }
});
