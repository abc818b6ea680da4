/**
 * Helpers for the boot tests: loopback addresses and ports, an echo upstream, an engine client
 * subprocess, and a bounded round trip through a tunnel. Everything stays on 127.0.0.0/8.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ENGINE = join(ROOT, 'dist/inlets.mjs');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A random address in 127.2xx.0.0/16, away from the local provider's 127.0.0.x and the fake
 * clouds' 127.0.x.y, so parallel test files do not meet.
 */
export function testLoopbackAddress(): string {
  return `127.${randomInt(200, 250)}.${randomInt(0, 256)}.${randomInt(2, 255)}`;
}

/** A port that was free a moment ago on `address`. */
export async function freePortOn(address: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, address, resolve);
  });
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** An echo server on 127.0.0.1; returns its port and a close function. */
export async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** Starts `inlets tcp client` exposing public `dataPort` as 127.0.0.1:`upstreamPort`; the token goes by environment. */
export function startClient(opts: { url: string; token: string; pin: string; dataPort: number; upstreamPort: number }): ChildProcess & { output: () => string } {
  const child = spawn(
    process.execPath,
    [ENGINE, 'tcp', 'client', '--url', opts.url, '--token-env', 'INLETS_TOKEN', '--tls-pin', opts.pin, '--upstream', `${opts.dataPort}=127.0.0.1:${opts.upstreamPort}`],
    { env: { ...process.env, INLETS_TOKEN: opts.token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return Object.assign(child, { output: () => output });
}

/** Stops a child process and waits (bounded) for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

/** Sends `payload` to address:port and resolves with what comes back (same length), within `timeoutMs`. */
export function roundTrip(address: string, port: number, payload: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: address, port });
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo from ${address}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (got < payload.length) reject(new Error(`connection to ${address}:${port} closed after ${got} bytes`));
    });
  });
}

/** Retries `fn` every `everyMs` until it resolves or `timeoutMs` passes; rethrows the last error. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(everyMs);
    }
  }
}
