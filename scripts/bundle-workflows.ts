import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflows } from '../apps/worker/src/worker';

/** Prebuilds the workflow bundle the worker loads in production (dist/workflow-bundle.js). */
async function main(): Promise<void> {
  const { code } = await bundleWorkflows();
  const target = path.resolve(__dirname, '..', 'workflow-bundle.js');
  await writeFile(target, code);
  console.log(`workflow bundle written to ${path.relative(process.cwd(), target)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
