import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** `npm run bench [-- --quick]`: every bench in turn, each in a process (and a stack) of its own. */
const BENCHES = ['temporal-tuning', 'simulator', 'query-gc', 'operations', 'reads', 'parked', 'worker-cache', 'fairness', 'qemu'];

let failed = 0;
for (const name of BENCHES) {
  const run = spawnSync(
    process.execPath,
    ['-r', path.join(__dirname, '..', '..', 'scripts', 'register-paths.js'), path.join(__dirname, `${name}.js`), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (run.status !== 0) {
    console.error(`bench ${name} failed (${run.signal ?? `exit ${run.status}`})`);
    failed += 1;
  }
}
process.exit(failed ? 1 : 0);
