/**
 * Progress for long commands, always on stderr (stdout is for the result): an ora spinner when
 * stderr is a terminal, plain timestamped lines otherwise (CI logs). Never both.
 */
import type { Ora } from 'ora';

export interface Progress {
  /** A phase begins: "Creating the VM". */
  start(text: string): void;
  /** Detail while the phase waits: "status: new (next check in 3 s)". */
  update(text: string): void;
  /** The phase finished well. */
  succeed(text: string): void;
  /** The phase failed. */
  fail(text: string): void;
  /** A note that is not a phase. */
  info(text: string): void;
  /** Stops any spinner; call before printing the result or an error. */
  stop(): void;
}

export interface ProgressOptions {
  /** Where to write; default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Use a spinner; default: whether `stream` is a terminal. */
  spinner?: boolean;
}

/** Makes a {@link Progress}; ora is loaded only when a spinner is used. */
export async function createProgress(options: ProgressOptions = {}): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  // A terminal that reports no width (some ptys) would make ora's line clearing loop without end.
  const spinner = options.spinner ?? Boolean(stream.isTTY && stream.columns > 0);
  if (spinner) {
    const { default: ora } = await import('ora');
    return new SpinnerProgress(ora({ stream, discardStdin: false }), stream);
  }
  return new LineProgress((line) => stream.write(line));
}

class SpinnerProgress implements Progress {
  private phase = '';
  constructor(
    private readonly ora: Ora,
    private readonly stream: NodeJS.WriteStream,
  ) {}
  start(text: string): void {
    this.phase = text;
    this.ora.start(text);
  }
  update(text: string): void {
    this.ora.text = `${this.phase}: ${text}`;
  }
  succeed(text: string): void {
    this.ora.succeed(text);
  }
  fail(text: string): void {
    this.ora.fail(text);
  }
  info(text: string): void {
    if (this.ora.isSpinning) {
      this.ora.clear();
      this.stream.write(`${text}\n`);
      this.ora.render();
    } else {
      this.ora.info(text);
    }
  }
  stop(): void {
    if (this.ora.isSpinning) this.ora.stop();
  }
}

/** One timestamped line per event; repeated identical updates are written once. */
export class LineProgress implements Progress {
  private phase = '';
  private lastUpdate = '';
  constructor(private readonly write: (line: string) => void) {}
  private line(text: string): void {
    this.write(`${new Date().toISOString()} ${text}\n`);
  }
  start(text: string): void {
    this.phase = text;
    this.lastUpdate = '';
    this.line(`${text}...`);
  }
  update(text: string): void {
    if (text === this.lastUpdate) return;
    this.lastUpdate = text;
    this.line(`${this.phase}: ${text}`);
  }
  succeed(text: string): void {
    this.line(`ok: ${text}`);
  }
  fail(text: string): void {
    this.line(`failed: ${text}`);
  }
  info(text: string): void {
    this.line(text);
  }
  stop(): void {}
}

/** A progress that prints nothing (library use, tests). */
export const silentProgress: Progress = { start() {}, update() {}, succeed() {}, fail() {}, info() {}, stop() {} };
