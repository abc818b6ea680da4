#!/usr/bin/env node
// Runs inlets-server.mjs.br (the inlets server, brotli'd to fit the user-data) from beside this file.
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
const js = brotliDecompressSync(readFileSync(new URL('inlets-server.mjs.br', import.meta.url)));
await import('data:text/javascript;base64,' + js.toString('base64'));
