/**
 * "This is not an inlets server": answers that reconnecting cannot change, so the client stops
 * with one clear line instead of retrying for ever. A web server answering 404 (or 400, 405…) to
 * the upgrade, or a port that speaks plain TCP where TLS was expected (OpenSSL's "wrong version
 * number"), is someone else's service. A 5xx, 429 or a refused connection may be an inlets server
 * still starting or behind a busy proxy: those stay retryable.
 */
import { TunnelError } from '../../errors.js';

/** Answers to the upgrade that mean "wrong place" (401 and 426 have their own codes). */
const WRONG_PLACE = [400, 403, 404, 405, 410, 501];
/** OpenSSL's words when the peer does not speak TLS at all. */
const NOT_TLS = /wrong version number|packet length too long|http request|unknown protocol/i;

/** `err` as a permanent `NOT_INLETS` TunnelError when it says the server is not inlets, else `err`. */
export function asNotInlets(err: Error | undefined, url: string): Error | undefined {
  const code = (err as TunnelError | undefined)?.code;
  const where = hostOf(url);
  if (code === 'HANDSHAKE_FAILED' && err) {
    const status = (err as TunnelError).httpStatus;
    if (status && WRONG_PLACE.includes(status)) return new TunnelError('NOT_INLETS', `${where} is not an inlets server (it answered the tunnel upgrade with HTTP ${status}); check the URL and port`, { cause: err });
    // 101 with a wrong Sec-WebSocket-Accept: something answered the upgrade without speaking websocket
    if (status === 101) return new TunnelError('NOT_INLETS', `${where} is not an inlets server (no websocket upgrade); check the URL and port`, { cause: err });
  }
  if (code === 'TLS_HANDSHAKE_FAILED' && err && NOT_TLS.test(err.message)) {
    return new TunnelError('NOT_INLETS', `${where} does not speak TLS, so it is not an inlets server with TLS (if it is one started with --disable-tls, use ws://)`, { cause: err });
  }
  return err;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
