/**
 * Runs one local-provider call in its own process, as separate inletsctl invocations would:
 *   node --import tsx local-provider-driver.ts STATE_DIR create NAME CONTROL_PORT USER_DATA_FILE
 *   node --import tsx local-provider-driver.ts STATE_DIR status|delete NAME
 *   node --import tsx local-provider-driver.ts STATE_DIR list
 * Prints the result as JSON, or {"error": {code, message}}.
 */
import { readFileSync } from 'node:fs';
import { localProvider } from '../../providers/local/index.js';

const [stateDir, op, name, port, file] = process.argv.slice(2);
const provider = (await localProvider.load())({ credentials: {}, options: {}, stateDir });
try {
  let result: unknown;
  if (op === 'create') {
    result = await provider.create({
      name,
      tunnelId: 'b007b007b007',
      openPorts: [],
      region: 'loopback',
      plan: 'process',
      image: 'this-node',
      userData: readFileSync(file),
      controlPort: Number(port),
      ports: [],
      firewall: false,
    });
  } else if (op === 'status') result = await provider.status({ name, id: name }); // a local node's id is its name
  else if (op === 'delete') result = await provider.delete({ name, id: name });
  else if (op === 'list') result = await provider.list();
  else throw new Error(`unknown op ${op}`);
  process.stdout.write(JSON.stringify({ result }));
} catch (err) {
  const e = err as Error & { code?: string };
  process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }));
}
