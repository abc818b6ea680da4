/**
 * Ctrl-C and SIGTERM during long commands. While a handler is installed, Node's default (exit at
 * once) is off, so the command can clean up; the callback learns which signal and how many so far.
 */
export function onInterrupt(callback: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => callback(signal, ++count);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
