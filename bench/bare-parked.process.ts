import { Context } from '@temporalio/activity';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

/**
 * One process of the parked baseline (bench/parked.ts), so that its memory is read apart from the bench's:
 * `worker <address> <queue> <cache>`: the bare workflows, caching `cache` of them, as the stack's worker does;
 * `agent <address> <queue> <slots>`: their long activity, `slots` at once, each heartbeating every 15 s (our long
 * calls' heartbeat timeout, a minute, over four, as libs/activities' step does) while it waits ten minutes.
 * Prints `ready`, then `running <n>` each second.
 */
async function main(): Promise<void> {
  // ERROR: a worker with no workflows (or no activities) says so at WARN.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [role, address, queue, size] = process.argv.slice(2);
  const connection = await NativeConnection.connect({ address });
  let running = 0;
  let worker: Worker;
  if (role === 'worker') {
    const quiet = () => undefined;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./bare-parked.workflows'),
      logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, log: quiet, error: console.error },
    });
    worker = await Worker.create({ connection, taskQueue: queue, workflowBundle, maxCachedWorkflows: Number(size) });
  } else {
    const activities = {
      async park() {
        const ctx = Context.current();
        running += 1;
        const beat = setInterval(() => ctx.heartbeat(), 15_000);
        try {
          await new Promise((resolve) => setTimeout(resolve, 600_000));
        } finally {
          clearInterval(beat);
          running -= 1;
        }
      },
    };
    worker = await Worker.create({ connection, taskQueue: queue, activities, maxConcurrentActivityTaskExecutions: Number(size) });
  }
  console.log('ready');
  setInterval(() => console.log(`running ${running}`), 1000).unref();
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
