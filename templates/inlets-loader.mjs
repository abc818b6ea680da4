#!/usr/bin/env node
// inlets for this exit node: runs the server engine kept brotli-compressed beside this file, so
// that it fits the cloud's user-data limit (16 KiB on EC2). Written by inletsctl.
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
const engine = brotliDecompressSync(readFileSync(new URL('inlets-server.mjs.br', import.meta.url)));
const named = Buffer.concat([engine, Buffer.from('\n//# sourceURL=inlets-server.mjs\n')]);
await import(`data:text/javascript;base64,${named.toString('base64')}`);
