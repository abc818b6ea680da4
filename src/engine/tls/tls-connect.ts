/**
 * Opens the client's connection to a control port: TCP, then TLS verified by pin, by a given CA,
 * or by the system CAs (PROTOCOL.md §11). Resolves only once the server is trusted, so nothing
 * (above all, no token) is ever written to a server that fails verification.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { TunnelError } from '../../errors.js';
import { hostPort } from '../transport/http-head.js';
import { parsePin, pinOf } from './pin.js';

/** How the client decides to trust the server. */
export interface TlsTrust {
  /** Plain TCP, for a server behind a TLS-terminating proxy. */
  disableTls?: boolean;
  /** `sha256:<hex>` of the server's public key: trust exactly that key. */
  pin?: string;
  /** CA certificate(s) in PEM: verify the chain and the host name against them. */
  caPem?: string | Buffer;
  /** No verification at all. */
  insecure?: boolean;
  /** TLS server name (SNI and host name check). Default: the host, unless it is an IP address. */
  servername?: string;
}

export interface ConnectOptions {
  host: string;
  port: number;
  trust: TlsTrust;
  /** Time for TCP connect plus TLS handshake, in ms. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Connects and verifies. Rejects with TunnelError: CONNECT_FAILED, TIMEOUT, ABORTED,
 * TLS_HANDSHAKE_FAILED, TLS_VERIFY_FAILED or TLS_PIN_MISMATCH.
 */
export function connectTrusted(options: ConnectOptions): Promise<Socket | TLSSocket> {
  const { host, port, trust, timeoutMs = 10_000, signal } = options;
  const where = hostPort(host, port);
  return new Promise((resolve, reject) => {
    const expectedPin = trust.pin ? parsePin(trust.pin) : undefined;
    if (signal?.aborted) return reject(new TunnelError('ABORTED', `connecting to ${where} was cancelled`));
    let tcpConnected = false;
    let socket: Socket | TLSSocket;
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.setNoDelay(true);
        resolve(socket);
      }
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (!tcpConnected || error.syscall) {
        settle(new TunnelError('CONNECT_FAILED', `cannot connect to ${where}: ${error.code ?? error.message}${error.code ? ` (${error.message})` : ''}`, { cause: error }));
      } else {
        const hint = /wrong version number|packet length too long|http request/i.test(error.message)
          ? ' (is the server running without TLS? then use ws://)'
          : '';
        settle(new TunnelError('TLS_HANDSHAKE_FAILED', `TLS handshake with ${where} failed: ${error.message}${hint}`, { cause: error }));
      }
    };
    const onClose = () => settle(new TunnelError('CONNECT_FAILED', `${where} closed the connection during the TLS handshake`));
    const onAbort = () => settle(new TunnelError('ABORTED', `connecting to ${where} was cancelled`));
    const timer = setTimeout(
      () => settle(new TunnelError('TIMEOUT', `connecting to ${where} timed out after ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });

    if (trust.disableTls) {
      socket = netConnect({ host, port });
      socket.once('connect', () => settle(null));
    } else {
      const tlsSocket = tlsConnect({
        host,
        port,
        servername: trust.servername ?? (isIP(host) ? undefined : host),
        ca: trust.caPem,
        // We check the result ourselves on 'secureConnect', to tell pin, chain and host apart.
        rejectUnauthorized: false,
      });
      socket = tlsSocket;
      tlsSocket.once('connect', () => {
        tcpConnected = true;
      });
      tlsSocket.once('secureConnect', () => settle(verify(tlsSocket, trust, expectedPin, where)));
    }
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** Null when the peer is trusted, else the error to fail with. */
function verify(socket: TLSSocket, trust: TlsTrust, expectedPin: string | undefined, where: string): TunnelError | null {
  if (expectedPin) {
    const cert = socket.getPeerX509Certificate();
    const actual = cert ? pinOf(cert) : 'none (no certificate)';
    if (actual !== expectedPin) {
      return new TunnelError(
        'TLS_PIN_MISMATCH',
        `the server at ${where} presented key ${actual}, but the expected pin is ${expectedPin}; not sending the token`,
      );
    }
    if (!trust.caPem) return null;
  } else if (trust.insecure) {
    return null;
  }
  if (socket.authorized) return null;
  const reason = String(socket.authorizationError ?? 'unknown reason');
  const against = trust.caPem ? 'the given CA' : 'the system CAs';
  return new TunnelError('TLS_VERIFY_FAILED', `the certificate of ${where} does not verify against ${against}: ${reason}`);
}
