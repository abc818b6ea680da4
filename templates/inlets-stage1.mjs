#!/usr/bin/env node
// Staged start (docs/PROTOCOL.md §15): the user-data had no room for the server (HTTPS mode at
// EC2), only for its SHA-256. Until inletsctl PUTs exactly those bytes to /server on the control
// port (TLS with the pinned key, the tunnel token), nothing else is served; then they are kept in
// the state directory (0600) and run as the loader would run them. Restarts find them there.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync as rd, writeFileSync as wr, renameSync } from 'node:fs';
import { createServer } from 'node:https';
import { brotliDecompressSync } from 'node:zlib';

const want = rd(new URL('inlets-server.sha256', import.meta.url), 'utf8').trim();
const file = `${(process.env.STATE_DIRECTORY || '/var/lib/inlets').split(':')[0]}/inlets-server.mjs.br`;
const sha = (b) => createHash('sha256').update(b).digest('hex');
const run = (br) => import('data:text/javascript;base64,' + brotliDecompressSync(br).toString('base64'));
const MAX = 1 << 20;

let kept;
try {
  kept = rd(file);
} catch {}
if (kept && sha(kept) === want) await run(kept);
else {
  const arg = (name, d) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const token = Buffer.from(process.env.INLETS_TOKEN || '');
  const authorized = (h = '') => {
    const got = Buffer.from(h.replace(/^Bearer /, ''));
    return token.length > 0 && got.length === token.length && timingSafeEqual(got, token);
  };
  const srv = createServer({ cert: rd(arg('--tls-cert')), key: rd(arg('--tls-key')), maxHeaderSize: 8192, handshakeTimeout: 5000, headersTimeout: 5000, requestTimeout: 60000, connectionsCheckingInterval: 1000 }, (req, res) => {
    const end = (code, text) => res.writeHead(code, { 'content-type': 'text/plain', connection: 'close' }).end(`${text}\n`);
    if (req.url !== '/server') return req.resume(), end(503, 'waiting for inletsctl to deliver the server');
    if (req.method !== 'PUT') return req.resume(), end(405, 'PUT the server');
    if (!authorized(req.headers.authorization)) return req.resume(), end(401, 'unauthorized');
    const size = Number(req.headers['content-length']);
    if (!(size > 0 && size <= MAX)) return end(413, `give content-length up to ${MAX}`); // connection: close drops the body
    const parts = [];
    let got = 0;
    req.on('data', (d) => (got += d.length) > size ? req.destroy() : parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (body.length !== size || sha(body) !== want) return end(422, 'not the server this node was made for (sha256)');
      wr(`${file}.tmp`, body, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      // The server takes over the control port once this listener is closed.
      res.on('finish', () => (srv.close(() => run(body)), srv.closeAllConnections()));
      end(200, 'ok');
    });
  });
  // Every wait bounded: TLS 5 s, the head 5 s, the upload 60 s, silence 10 s; 64 connections at most.
  srv.timeout = 10000;
  srv.maxConnections = 64;
  srv.listen(+arg('--control-port', 8123), arg('--control-addr', '0.0.0.0'));
}
