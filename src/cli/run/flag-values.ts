/** Flag values more than one command reads: a port, a PEM certificate file. Mistakes are usage errors. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';

/** `--flag N`: an integer port 1-65535. */
export function portFlag(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    const range = /^\d+-\d+$/.test(String(value)) ? ' (ranges are not taken: list the ports, like 80,443)' : '';
    throw new UsageError(`--${flag} "${String(value)}" is not a port number from 1 to 65535${range}`, 'BAD_PORT');
  }
  return n;
}

/** `--flag FILE`: the PEM text of FILE, which must hold a certificate. */
export function certificateFile(file: string, flag: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'BAD_FILE');
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) throw new UsageError(`--${flag}: ${file} holds no PEM certificate`, 'BAD_FILE');
  return pem;
}
