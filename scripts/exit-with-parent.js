// Preloaded by scripts/stack.ts into each process it runs: the stack holds the write end of this process's stdin,
// so stdin ends when the stack is gone, even SIGKILLed; the process then stops as on Ctrl-C (SIGTERM), instead
// of running on orphaned and holding its port. Worker threads (Temporal's workflow threads) inherit the preload
// and have no stdin of their own: only the main thread watches.
if (require('node:worker_threads').isMainThread && !process.stdin.isTTY) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  // Not a reason to stay alive: a process that has stopped its work still exits.
  process.stdin.unref();
}
