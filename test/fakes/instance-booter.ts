/**
 * Boots the instances of a fake cloud: when an instance becomes active, its user-data is run by
 * the shared booter (src/boot/, the same code the local provider uses), with the engine
 * bound to a loopback address of its own, which the fake reports as the instance's public IP.
 * Deleting the instance stops it.
 *
 * Addresses come from 127.0.<1-254>.<2-254>, away from 127.0.0.x that the local provider uses, so
 * fakes in parallel test files and local tunnels do not collide on the control port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running exit node. */
export interface BootedInstance {
  stop(): Promise<void>;
}

/** Runs user-data on a loopback address; resolves once the process is started. */
export type BootFunction = (userData: Buffer, options: { address: string; rootDir: string }) => Promise<BootedInstance>;

export interface InstanceBooterOptions {
  /**
   * How to boot: the shared booter by default; `false` for API-only fakes (provider tests that do
   * not need a running exit node: the instance gets an address but nothing runs on it).
   */
  boot?: BootFunction | false;
}

const usedAddresses = new Set<string>();

/** A loopback address not handed out before in this process. */
export function allocateLoopbackAddress(): string {
  for (let i = 0; i < 10_000; i++) {
    const addr = `127.0.${1 + Math.floor(Math.random() * 254)}.${2 + Math.floor(Math.random() * 253)}`;
    if (!usedAddresses.has(addr)) {
      usedAddresses.add(addr);
      return addr;
    }
  }
  throw new Error('no free loopback address');
}

export class InstanceBooter {
  private readonly running = new Map<string, Promise<BootedInstance | undefined>>();
  private rootDir?: string;

  /**
   * @param onProblem called with a message when an instance fails to boot (the fake records it,
   *   and the tests fail on it: user-data our templates produce must always boot).
   */
  constructor(
    private readonly options: InstanceBooterOptions,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Starts instance `id` on `address` in the background. */
  boot(id: string, userData: Buffer, address: string): void {
    if (this.options.boot === false || this.running.has(id)) return;
    const boot = this.options.boot ?? defaultBoot;
    this.rootDir ??= mkdtempSync(join(tmpdir(), 'inlets-fake-cloud-'));
    const dir = join(this.rootDir, id);
    const started = boot(userData, { address, rootDir: dir }).catch((err: unknown) => {
      this.onProblem(`instance ${id} failed to boot on ${address}: ${(err as Error)?.message ?? String(err)}`);
      return undefined;
    });
    this.running.set(id, started);
  }

  /** Stops instance `id` if it runs. */
  async stop(id: string): Promise<void> {
    const started = this.running.get(id);
    if (!started) return;
    this.running.delete(id);
    const instance = await started;
    await instance?.stop().catch((err: unknown) => this.onProblem(`instance ${id} did not stop: ${(err as Error)?.message ?? String(err)}`));
  }

  /** How many instances run now. */
  count(): number {
    return this.running.size;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
    if (this.rootDir) rmSync(this.rootDir, { recursive: true, force: true });
  }
}

/** The shared booter from src/boot/ (the local provider's), loaded on first use. */
const defaultBoot: BootFunction = async (userData, options) => {
  const { bootUserData, stopBootedNodeAndWait } = await import('../../src/boot/boot-user-data.js');
  const booted = await bootUserData(userData, options);
  return { stop: () => stopBootedNodeAndWait(booted, { graceMs: 3000, timeoutMs: 10_000 }) };
};
