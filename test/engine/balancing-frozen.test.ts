/**
 * Health-aware round robin (PROTOCOL.md §13): with two clients on one port and one of them frozen
 * (a real client process under SIGSTOP, so its socket stays open and silent), public connections
 * that reach the frozen one move to the other after the open limit, later ones skip it, and it gets
 * connections again once it answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, connectTo, freePort, namedUpstream, spawnInlets, startClient, startServer, waitFor, track } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

const OPEN_MS = 3000;

/** Connects to the public port and reads the upstream's name; resolves with it and the ms it took. */
async function whoAnswers(port: number): Promise<{ name: string; ms: number }> {
  const started = performance.now();
  const s = await connectTo(port);
  s.write('hello\n'); // sent before any answer: must reach whichever client serves it
  const lines = await new Promise<string[]>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no answer within 20 s (got ${JSON.stringify(text)})`)), 20_000);
    s.on('data', (d) => {
      text += d;
      if (text.split('\n').length > 2) resolve((clearTimeout(timer), text.split('\n')));
    });
  });
  expect(lines[1]).toBe('hello');
  s.destroy();
  return { name: lines[0], ms: performance.now() - started };
}

describe('a frozen client', () => {
  it('is skipped within the open limit while the other client serves every public connection, until it answers again', async () => {
    const srv = await startServer({ openTimeoutMs: OPEN_MS });
    const pub = await freePort();
    const [upA, upB] = await Promise.all([namedUpstream('a'), namedUpstream('b')]);
    const a = spawnInlets(['tcp', 'client', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T', '--client-id', 'frozen', '--upstream', `${pub}=127.0.0.1:${upA.port}`], { T: srv.token });
    track(() => process.kill(a.pid, 'SIGCONT')); // a stopped process ignores SIGKILL's cleanup until continued
    await waitFor(() => srv.server.status().ports.some((p) => p.port === pub), 'client a to serve the port');
    await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, clientId: 'b', upstreams: new Map([[pub, { host: '127.0.0.1', port: upB.port }]]) });
    await waitFor(() => srv.server.status().ports.find((p) => p.port === pub)?.clients.length === 2, 'both clients on the port');
    const before = new Set<string>();
    for (let i = 0; i < 4; i++) before.add((await whoAnswers(pub)).name);
    expect(before).toEqual(new Set(['a', 'b']));

    process.kill(a.pid, 'SIGSTOP');
    const sequential: { name: string; ms: number }[] = [];
    for (let i = 0; i < 8; i++) sequential.push(await whoAnswers(pub));
    const parallel = await Promise.all(Array.from({ length: 20 }, () => whoAnswers(pub)));
    console.log(`while a is frozen: sequential ms ${sequential.map((r) => r.ms.toFixed(0)).join(', ')}; parallel max ${Math.max(...parallel.map((r) => r.ms)).toFixed(0)} ms (open limit ${OPEN_MS} ms)`);
    expect([...sequential, ...parallel].map((r) => r.name)).toEqual(Array(28).fill('b'));
    // at most the first waited out the open limit on a; the rest skipped it
    expect(sequential.slice(1).filter((r) => r.ms >= OPEN_MS)).toEqual([]);
    expect(parallel.filter((r) => r.ms >= OPEN_MS)).toEqual([]);
    expect(srv.server.status().clients.map((c) => c.id).sort()).toEqual(['b', 'frozen']);

    process.kill(a.pid, 'SIGCONT');
    await waitFor(async () => (await whoAnswers(pub)).name === 'a', 'the thawed client to get connections again', 20_000, 100);
  }, 60_000);
});
