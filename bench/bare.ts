import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';

/** The bare baseline's queues: its workflows and "local" steps, and a second queue like a node's. */
export const BARE_QUEUE = 'bench-bare';
export const BARE_NODE_QUEUE = 'bench-bare-node';

export interface BareTemporal {
  client: Client;
  /**
   * Runs one bare workflow whose no-op steps go to `queues` in order; resolves to its milliseconds (start → result).
   * `onStarted` is told how long the server took to accept the start.
   */
  run(queues: string[], onStarted?: (ms: number) => void): Promise<number>;
  /** Like run, and resolves to the workflow id (to read its history). */
  runWithId(queues: string[], onStarted?: (ms: number) => void): Promise<string>;
  close(): Promise<void>;
}

/**
 * A client and the bare baseline's workers on a Temporal server: like the stack, one worker with the workflows and
 * the local steps, and an activity-only one like an agent's.
 */
export async function startBare(address: string): Promise<BareTemporal> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address });
  const quiet = () => undefined;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./bare.workflows'),
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, log: quiet, error: console.error },
  });
  const activities = { noop: async () => undefined };
  const workers = [
    await Worker.create({ connection: native, taskQueue: BARE_QUEUE, workflowBundle, activities, maxCachedWorkflows: 2000 }),
    await Worker.create({ connection: native, taskQueue: BARE_NODE_QUEUE, activities }),
  ];
  const running = workers.map((w) => w.run());
  const runWithId = async (queues: string[], onStarted?: (ms: number) => void) => {
    const workflowId = `bench-${randomUUID()}`;
    const t0 = performance.now();
    const handle = await client.workflow.start('shapedWorkflow', { taskQueue: BARE_QUEUE, workflowId, args: [queues] });
    onStarted?.(performance.now() - t0);
    await handle.result();
    return workflowId;
  };
  return {
    client,
    runWithId,
    async run(queues, onStarted) {
      const t0 = performance.now();
      await runWithId(queues, onStarted);
      return performance.now() - t0;
    },
    async close() {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await native.close();
      await connection.close();
    },
  };
}
