/**
 * What each flag of the `inlets` commands does, for `--help`: one line each ('\n' continues on
 * the next). Kept apart from the flag tables so that the exit node's build, where every byte of
 * the user-data counts, can leave the descriptions out (its --help lists the flags only).
 */
export const FLAG_HELP: Record<string, string> = {
  url: "the server's control plane, wss://HOST:8123",
  token: 'the shared secret (visible in the process list: prefer the next two)',
  'token-file': 'read the token from FILE',
  'token-env': 'read the token from environment variable NAME',
  'tls-pin': 'trust exactly the server key with this pin',
  'tls-ca': 'verify the server certificate against this CA',
  'tls-insecure': 'do not verify the server at all',
  'control-addr': 'control plane address (default 0.0.0.0)',
  'control-port': 'control plane port (default 8123)',
  'data-addr': 'address the public ports bind to (default 0.0.0.0)',
  'tls-cert': 'serve this certificate (with --tls-key) instead of the generated one',
  'tls-key': "the certificate's private key",
  'disable-tls': 'plain HTTP on the control port, behind a TLS-terminating proxy',
  'tls-san': 'a DNS name or IP the generated certificate is valid for\n(repeatable), so clients can verify it by name',
  'state-dir': 'keeps the generated key and certificate (default $INLETS_STATE_DIR,\n/var/lib/inlets as root, else ~/.local/state/inlets)',
  'allow-ports': 'ports clients may open, e.g. 1024-65535,80,443 (default all)',
  keepalive: 'ping interval (default 10; a peer silent 3 intervals is dropped)',
  'tls-timeout': 'TLS handshake limit (default 5)',
  'head-timeout': 'request head limit (default 5)',
  'upgrade-timeout': 'hello limit after the upgrade (default 5)',
  'open-timeout': 'skip a client silent this long after an open (default 2)',
  'auth-delay-max': 'longest wait after wrong tokens (default 10)',
  'max-unauth': 'unauthenticated connections (default 1024)',
  'max-unauth-per-ip': 'the same per IP (default 32)',
  upstream: 'where the --ports/--port connections go (same port numbers);\nor P=HOST:Q: public port P goes to HOST:Q (repeatable)',
  ports: 'public ports served by --upstream HOST, e.g. 80,443 (repeatable)',
  port: 'one such port (repeatable)',
  'client-id': 'stable id, so a reconnect takes its ports back at once',
  json: "print the server's JSON as is",
  'log-level': 'debug, info, warn or error (default info)',
  generate: 'print a systemd unit for these flags and exit',
};
