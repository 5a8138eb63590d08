import { nodeTaskQueue } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/hypervisor';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createDriverActivities } from './driver.activities';

export interface NodeAgentOptions {
  connection: NativeConnection;
  namespace: string;
  /** The shared task queue; each node's queue is derived from it (nodeTaskQueue). */
  sharedTaskQueue: string;
  nodeIds: string[];
  driver: HypervisorDriver;
}

export interface NodeAgent {
  /** The task queue each served node polls. */
  queues: Record<string, string>;
  /** Resolves once every node's worker has drained (after shutdown() or SIGINT/SIGTERM). */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * The agent of one or more hypervisor nodes: one activity-only worker per node, polling that node's own task
 * queue, so a driver step runs on the host that holds the VM and nowhere else.
 */
export async function createNodeAgent({ connection, namespace, sharedTaskQueue, nodeIds, driver }: NodeAgentOptions): Promise<NodeAgent> {
  const queues = Object.fromEntries(nodeIds.map((nodeId) => [nodeId, nodeTaskQueue(sharedTaskQueue, nodeId)]));
  const workers = await Promise.all(
    nodeIds.map((nodeId) =>
      Worker.create({
        connection,
        namespace,
        taskQueue: queues[nodeId],
        activities: createDriverActivities(driver, nodeId),
        // A killed agent's steps are retried after their heartbeat timeout; a stopping one finishes them first.
        shutdownGraceTime: '30 seconds',
      }),
    ),
  );
  return {
    queues,
    async run() {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
