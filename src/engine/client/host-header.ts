/**
 * `inlets http client --host-header`: the Host header upstreams see. By default it is the public
 * request's own; `rewrite` makes it the upstream's host[:port] (for a server that answers only to
 * its own name, like a dev server or a virtual host), any other value is used as given. The public
 * name stays in X-Forwarded-Host. A stream carries one request (PROTOCOL.md §6.2, item 3), so
 * rewriting the head at the start of the stream is enough.
 */
import type { Readable } from 'node:stream';
import { UsageError } from '../../errors.js';
import type { HttpUpstream } from './http-upstreams.js';

/** The Host value for an upstream. */
export type HostHeader = (up: HttpUpstream) => string;

/** The longest request head taken from a stream; the server's own limit is far lower (16 KiB). */
const HEAD_MAX = 64 * 1024;

/** `rewrite`, a host[:port], or undefined (keep the public one). */
export function parseHostHeader(value: string | undefined): HostHeader | undefined {
  if (value === undefined) return undefined;
  if (value === 'rewrite') {
    return (up) => {
      const name = up.host.includes(':') ? `[${up.host}]` : up.host;
      return up.port === (up.tls ? 443 : 80) ? name : `${name}:${up.port}`;
    };
  }
  if (!/^(\[[\da-f:.]+\]|[a-z\d.-]+)(:\d{1,5})?$/i.test(value)) throw new UsageError(`--host-header: "${value}" is not "rewrite" or a HOST[:PORT]`);
  return () => value;
}

/**
 * Reads the request head off `stream` and resolves with it, its Host lines replaced by `host`;
 * what followed the head is put back on the stream. Rejects when the head is not complete within
 * `ms` or HEAD_MAX bytes, or the stream ends first.
 */
export function rewriteHostHead(stream: Readable, host: string, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const finish = (err: Error | undefined, out?: Buffer): void => {
      clearTimeout(timer);
      stream.off('readable', take).off('end', ended).off('close', ended);
      if (err) reject(err);
      else resolve(out!);
    };
    const ended = (): void => finish(new Error('the stream ended inside the request head'));
    const take = (): void => {
      for (let chunk: Buffer | null; (chunk = stream.read()) !== null; ) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          if (end + 4 < head.length) stream.unshift(head.subarray(end + 4));
          const [first, ...fields] = head.subarray(0, end).toString('latin1').split('\r\n');
          const kept = fields.filter((f) => !/^host\s*:/i.test(f));
          return finish(undefined, Buffer.from([first, `Host: ${host}`, ...kept, '', ''].join('\r\n'), 'latin1'));
        }
        if (head.length > HEAD_MAX) return finish(new Error(`request head over ${HEAD_MAX} bytes`));
      }
    };
    const timer = setTimeout(() => finish(new Error(`no request head within ${ms} ms`)), ms);
    stream.on('readable', take).once('end', ended).once('close', ended);
    take();
  });
}
