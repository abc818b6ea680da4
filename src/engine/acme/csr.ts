/**
 * A PKCS#10 certificate request (RFC 2986) for ACME's finalize: CN = the first domain, every
 * domain in a subjectAltName extension request, signed with a new P-256 key (Let's Encrypt issues
 * for RSA and ECDSA keys, not Ed25519).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { bitString, explicit, implicitPrimitive, octetString, oid, sequence, set, smallInteger, utf8String } from '../tls/der.js';

export function certificateRequest(domains: string[]): { der: Buffer; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const san = sequence(...domains.map((d) => implicitPrimitive(2, Buffer.from(d))));
  const info = sequence(
    smallInteger(0),
    sequence(set(sequence(oid('2.5.4.3'), utf8String(domains[0])))),
    publicKey.export({ type: 'spki', format: 'der' }),
    // [0] IMPLICIT SET OF Attribute: one extensionRequest holding subjectAltName
    explicit(0, sequence(oid('1.2.840.113549.1.9.14'), set(sequence(sequence(oid('2.5.29.17'), octetString(san)))))),
  );
  const der = sequence(info, sequence(oid('1.2.840.10045.4.3.2')), bitString(sign('sha256', info, privateKey)));
  return { der, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
