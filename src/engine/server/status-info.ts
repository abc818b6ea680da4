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

/** One open public port and the ids of the clients serving it, in round-robin order. */
export interface PortInfo {
  port: number;
  clients: string[];
}

export interface ServerStatus {
  version: string;
  /** `tcp` today; `http` later. */
  mode: string;
  hostname: string;
  /** ISO 8601 time the server started. */
  startedAt: string;
  clients: ClientInfo[];
  ports: PortInfo[];
}
