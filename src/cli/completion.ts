/**
 * Shell completion: `inletsctl completion [bash|zsh|fish]` prints a script; the script asks
 * `inletsctl __complete -- <words so far>` for candidates, one per line: commands, the flags of
 * the command being typed, provider names after --provider, and tunnel names from the state file
 * for `delete` and `test`. The shells filter by what is typed.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { inletsctlPrefix } from '../core/invocation.js';
import { registry } from '../core/registry.js';
import { usableRecords } from '../core/state-records.js';
import { StateStore, configDir } from '../core/state-store.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The completion script for `shell`; it calls this inletsctl the way it was started. */
export function completionScript(shell: Shell, prefix = inletsctlPrefix()): string {
  const ask = `${prefix} __complete --`;
  if (shell === 'bash') {
    return [
      '# inletsctl completion for bash: inletsctl completion bash >> ~/.bashrc',
      '_inletsctl() {',
      '  local IFS=$\'\\n\'',
      `  COMPREPLY=($(compgen -W "$(${ask} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))`,
      '}',
      'complete -o default -F _inletsctl inletsctl',
      '',
    ].join('\n');
  }
  if (shell === 'zsh') {
    return [
      '#compdef inletsctl',
      '# inletsctl completion for zsh: inletsctl completion zsh >> ~/.zshrc (after compinit)',
      '_inletsctl() {',
      '  local -a candidates',
      `  candidates=("\${(@f)$(${ask} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")`,
      '  compadd -a candidates',
      '}',
      'compdef _inletsctl inletsctl',
      '',
    ].join('\n');
  }
  return [
    '# inletsctl completion for fish: inletsctl completion fish > ~/.config/fish/completions/inletsctl.fish',
    `complete -c inletsctl -f -a '(${ask} (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'`,
    '',
  ].join('\n');
}

/** Positional arguments yargs also lists as options. */
const POSITIONALS = new Set(['name', 'shell']);

/** `--long` flags a command declares (not hidden, not camelCase twins, not one-letter aliases). */
function flagsOf(command: CommandModule): string[] {
  const y = yargs([]);
  if (typeof command.builder === 'function') (command.builder as (y: Argv) => Argv)(y);
  const options = (y as unknown as { getOptions(): { key: Record<string, unknown>; hiddenOptions: string[] } }).getOptions();
  return Object.keys(options.key)
    .filter((k) => k.length > 1 && !POSITIONALS.has(k) && !/[A-Z]/.test(k) && !options.hiddenOptions.includes(k) && k !== 'version')
    .map((k) => `--${k}`)
    .concat('--help');
}

/** Tunnel names in the state file (none when it cannot be read: completion never fails). */
async function tunnelNames(): Promise<string[]> {
  try {
    const store = new StateStore(configDir());
    return usableRecords(await store.list(), store.path).records.map((r) => r.name);
  } catch {
    return [];
  }
}

/** What can come next, given the words after `inletsctl` (the last is the one being typed). */
export async function candidates(words: string[], commands: CommandModule[], names: string[]): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.length === 0) return [...names, 'completion'];
  const command = commands.find((c) => String(Array.isArray(c.command) ? c.command[0] : c.command).split(' ')[0] === before[0] || [c.aliases ?? []].flat().includes(before[0]));
  if (before[0] === 'completion') return before.length === 1 ? [...SHELLS] : [];
  if (!command) return [];
  const previous = before.at(-1)!;
  if (previous === '--provider' || previous === '-p') return registry().names();
  if (current.startsWith('-')) return flagsOf(command);
  const takesName = ['delete', 'test'].includes(before[0]);
  const positionals = before.slice(1).filter((w, i, all) => !w.startsWith('-') && !(all[i - 1]?.startsWith('--') && !isBooleanFlag(all[i - 1])));
  return takesName && positionals.length === 0 ? tunnelNames() : [];
}

/** Flags that take no value, so the word after them is a positional. */
function isBooleanFlag(flag: string): boolean {
  return ['--yes', '--json', '--debug', '--dry-run', '--test', '--firewall', '--tcp', '--keep-on-failure', '--state-only'].includes(flag);
}
