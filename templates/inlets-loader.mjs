#!/usr/bin/env node
import { readFileSync as f } from 'node:fs';
import { brotliDecompressSync as b } from 'node:zlib';
await import('data:text/javascript;base64,' + b(f(new URL('inlets-server.mjs.br', import.meta.url))).toString('base64'));
