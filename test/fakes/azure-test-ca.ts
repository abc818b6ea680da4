/**
 * A throw-away certificate authority for the Azure fakes, made with the openssl CLI (Debian's
 * `openssl` package): a CA certificate and a server certificate for 127.0.0.1 that it signs.
 * The Azure SDKs send bearer tokens only over https, and a CLI subprocess trusts the CA through
 * NODE_EXTRA_CA_CERTS=<caFile>. Keys live in a temporary directory removed by `cleanup`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  /** PEM file of the CA certificate (for NODE_EXTRA_CA_CERTS). */
  caFile: string;
  caPem: string;
  /** The server's certificate (subjectAltName IP:127.0.0.1) and key, PEM. */
  certPem: string;
  keyPem: string;
  cleanup(): void;
}

/** Makes a CA and a server certificate valid for one day. @throws when openssl is missing */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'azure-fake-ca-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=inletsctl test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not make a test CA with openssl: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`);
  }
  return {
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    certPem: readFileSync(join(dir, 'server.pem'), 'utf8'),
    keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
