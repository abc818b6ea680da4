/**
 * Questions on a terminal, with @inquirer/prompts (loaded only when a question is asked). Never
 * used when stdin is not a terminal: then commands fail listing what is missing instead.
 * Prompts write to stderr so that stdout keeps only the result.
 */
import { CodedError } from '../../errors.js';

/** True when a person can answer: stdin and stderr are terminals. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

const context = () => ({ input: process.stdin, output: process.stderr, clearPromptOnDone: false });

/** Runs a prompt, turning Ctrl-C into an INTERRUPTED error. */
async function ask<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) {
      throw new CodedError('INTERRUPTED', 'cancelled at the prompt');
    }
    throw err;
  }
}

export async function askChoice(message: string, choices: { value: string; name: string; description?: string }[], defaultValue?: string): Promise<string> {
  const { select } = await import('@inquirer/prompts');
  return ask(() => select({ message, choices, default: defaultValue }, context()));
}

/** Asks for a secret without echoing it. */
export async function askSecret(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  return ask(() => password({ message, mask: '*', validate: (v) => (v.trim() ? true : 'required') }, context())).then((v) => v.trim());
}

export async function askConfirm(message: string): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return ask(() => confirm({ message, default: false }, context()));
}
