/** The JSON answered by `GET /status` (PROTOCOL.md §12) and read by `inlets status`. */

/** One connected client session. */
export interface ClientInfo {
  /** The client's stable id (PROTOCOL.md §9). */
  id: string;
  /** `address:port` of the client's TCP connection as the server sees it. */
  remoteAddress: string;
  /** ISO 8601 time the session started. */
  connectedAt: string;
  /** Public ports this session serves (accepted in its welcome). */
  ports: number[];
}

/** HTTP mode: a Let's Encrypt domain's certificate (src/engine/acme/cert-manager.ts). */
export interface CertificateInfo {
  domain: string;
  /** waiting: no certificate yet (DNS not pointing here, or the CA still checking). */
  state: 'waiting' | 'issued' | 'error';
  expiresAt?: string;
  /** When renewal starts (issued only); a failing renewal adds lastError while it stays issued. */
  renewsAt?: string;
  lastError?: string;
  nextAttemptAt?: string;
}

/** One open public port and the ids of the clients serving it, in round-robin order. */
export interface PortInfo {
  port: number;
  clients: string[];
}

export interface ServerStatus {
  version: string;
  /** `tcp` or `http`. */
  mode: string;
  hostname: string;
  /** ISO 8601 time the server started. */
  startedAt: string;
  clients: ClientInfo[];
  ports: PortInfo[];
  /** HTTP mode only: hosts and the ids of their clients, in round-robin order; certificates. */
  hosts?: { host: string; clients: string[] }[];
  certificates?: CertificateInfo[];
}
