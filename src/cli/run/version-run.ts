/** `inletsctl version`. */
import { ENGINE_VERSION } from '../../engine/version.js';
import { printJson, printText } from '../../core/output.js';

export async function runVersion(args: Record<string, unknown>): Promise<void> {
  // One package ships both programs, so the engine's version is inletsctl's.
  const info = { version: ENGINE_VERSION, engine: ENGINE_VERSION, node: process.versions.node, platform: `${process.platform}/${process.arch}` };
  if (args.json === true) printJson(info);
  else printText(`inletsctl ${info.version} (engine ${info.engine}, node ${info.node}, ${info.platform})`);
}
