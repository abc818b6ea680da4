/**
 * Authenticated but hostile peers against the server as a real child process (PROTOCOL.md section
 * 13): floods of mux PINGs while not reading, of websocket pings, and of OPENs (each answered by a
 * RESET) end in GOAWAY LIMIT_EXCEEDED with the reason, and the server's resident memory
 * (/proc/PID/status VmRSS) grows less than 32 MiB and comes back once the session is over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, freePort, randomToken, rssOf, sleep, spawnInlets, tempDir, waitFor } from '../helpers/engine-harness.js';
import { maskedFrame, rawTunnelPeer, type RawTunnelPeer } from '../helpers/raw-tunnel-peer.js';
import { FrameType, encodeFrame } from '../../src/engine/protocol/frame-codec.js';
import { OP_BINARY, OP_PING } from '../../src/engine/transport/websocket-frame.js';

afterEach(cleanupAll);

const MiB = 1024 * 1024;
/** A flood that has not been stopped after this much failed the test. */
const FLOOD_CAP = 512 * MiB;

async function cliServer() {
  const token = randomToken();
  const controlPort = await freePort();
  const stateDir = await tempDir();
  const p = spawnInlets(['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', String(controlPort), '--data-addr', '127.0.0.1', '--state-dir', stateDir, '--token-env', 'T'], { T: token });
  await p.waitOutput(/control plane listening/);
  return { p, token, controlPort };
}

/**
 * Runs one flood: `chunk()` gives the next bytes to send, until the server logs that it ended the
 * session. Returns what the peer then read, the bytes sent and the server's RSS before, at its
 * peak (sampled every 20 ms) and after the session ended.
 */
async function flood(name: string, chunk: (peer: RawTunnelPeer) => Buffer) {
  const { p, token, controlPort } = await cliServer();
  await sleep(500); // let the fresh process settle before the baseline
  const before = rssOf(p.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(p.pid))), 20);
  try {
    const peer = await rawTunnelPeer(controlPort, token, `hostile-${name}`);
    let sent = 0;
    while (!/peer fault: /.test(p.stderr() + p.stdout()) && sent < FLOOD_CAP && !peer.socket.destroyed) {
      const bytes = chunk(peer);
      sent += bytes.length;
      await peer.sendRaw(bytes);
    }
    const got = await peer.readUntilClosed();
    await p.waitOutput(new RegExp(`client hostile-${name} disconnected`));
    peak = Math.max(peak, rssOf(p.pid));
    clearInterval(sampler);
    // Memory comes back: wait (bounded) for the RSS to fall near the baseline.
    await waitFor(() => rssOf(p.pid) < before + 8 * MiB, 'the server RSS to settle', 20_000, 250).catch(() => {});
    const after = rssOf(p.pid);
    const mb = (n: number) => (n / MiB).toFixed(1);
    console.log(`${name} flood: sent ${mb(sent)} MiB; server RSS before ${mb(before)} MiB, peak ${mb(peak)} MiB (+${mb(peak - before)}), after ${mb(after)} MiB (+${mb(after - before)})`);
    return { got, sent, before, peak, after, stderr: p.stderr() };
  } finally {
    clearInterval(sampler);
  }
}

describe('an authenticated peer that floods the server', () => {
  it('with mux PINGs while reading nothing gets GOAWAY LIMIT_EXCEEDED, and server memory stays bounded', async () => {
    // One websocket message of 52 428 PINGs (20 bytes each): just under the 1 MiB message limit.
    const ping = encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, 7));
    const message = maskedFrame(OP_BINARY, Buffer.concat(Array.from({ length: Math.floor(MiB / ping.length) }, () => ping)));
    const r = await flood('mux-ping', () => message);
    expect(r.got.goAways).toContainEqual({ code: 'LIMIT_EXCEEDED', reason: expect.stringMatching(/over 100 PINGs while an answer waited/) });
    expect(r.peak - r.before).toBeLessThan(32 * MiB);
    expect(r.after - r.before).toBeLessThan(32 * MiB);
  });

  it('with websocket pings while reading nothing gets GOAWAY LIMIT_EXCEEDED and close 1008', async () => {
    const ping = maskedFrame(OP_PING, Buffer.alloc(125, 1));
    const batch = Buffer.concat(Array.from({ length: 8000 }, () => ping));
    const r = await flood('ws-ping', () => batch);
    expect(r.got.goAways).toContainEqual({ code: 'LIMIT_EXCEEDED', reason: expect.stringMatching(/over 100 pings while a pong waited/) });
    expect(r.got.close?.status).toBe(1008);
    expect(r.peak - r.before).toBeLessThan(32 * MiB);
    expect(r.after - r.before).toBeLessThan(32 * MiB);
  });

  it('with OPENs (each refused with a RESET) gets GOAWAY LIMIT_EXCEEDED for the open rate', async () => {
    let nextId = 1;
    const r = await flood('open', () => {
      const opens: Buffer[] = [];
      for (let i = 0; i < 1000; i++, nextId += 2) opens.push(encodeFrame(FrameType.OPEN, 0, nextId, Buffer.from('{"port":80}')));
      return maskedFrame(OP_BINARY, Buffer.concat(opens));
    });
    expect(r.got.goAways).toContainEqual({ code: 'LIMIT_EXCEEDED', reason: expect.stringMatching(/over 100 OPENs per second/) });
    expect(r.got.frames.filter((f) => f.type === FrameType.RESET).length).toBeGreaterThan(0);
    expect(r.peak - r.before).toBeLessThan(32 * MiB);
    expect(r.after - r.before).toBeLessThan(32 * MiB);
  });
});
