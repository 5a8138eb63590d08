// Runs a command (argv[2..]) that ends with whoever started this wrapper: that parent holds the write end of the
// wrapper's stdin, so stdin ends when the parent is gone, even SIGKILLed; the command then gets SIGTERM (SIGKILL
// 10 s later). SIGTERM and SIGINT sent to the wrapper are passed on; it exits as the command does. For programs
// that cannot watch their parent themselves (the Temporal CLI).
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });

function stop(signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
}

process.stdin.on('end', () => stop('SIGTERM'));
process.stdin.on('error', () => stop('SIGTERM'));
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => stop(signal));
child.on('error', (err) => {
  console.error(`${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 0)));
