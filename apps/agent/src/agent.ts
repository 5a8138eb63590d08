import { AGENT_SLOT_DEFAULTS } from '@vmops/config';
import { nodeLongTaskQueue, nodeTaskQueue } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/driver';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createDriverActivities } from './driver.activities';

export interface NodeAgentOptions {
  connection: NativeConnection;
  namespace: string;
  /** The shared task queue; each node's queue is derived from it (nodeTaskQueue). */
  sharedTaskQueue: string;
  nodeIds: string[];
  driver: HypervisorDriver;
  /**
   * Per node: how many driver calls run at once (AGENT_MAX_CALLS, 200), and how many long ones besides
   * (AGENT_MAX_LONG_CALLS, 1000): short calls answer within seconds, long ones (isLongDriverActivity) mostly wait.
   * AGENT_SLOT_DEFAULTS otherwise.
   */
  maxCalls?: number;
  maxLongCalls?: number;
}

export interface NodeAgent {
  /** The task queue each served node polls. */
  queues: Record<string, string>;
  /** Resolves once every node's worker has drained (after shutdown() or SIGINT/SIGTERM). */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * The agent of one or more hypervisor nodes: activity-only workers per node, polling that node's own task queues,
 * so a driver step runs on the host that holds the VM and nowhere else. Each node has two queues with slots of
 * their own: its long calls (a guest's power-off, a copy) never take the slots of its short ones.
 */
export async function createNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const { connection, namespace, sharedTaskQueue, nodeIds, driver } = options;
  const queues = Object.fromEntries(nodeIds.map((nodeId) => [nodeId, nodeTaskQueue(sharedTaskQueue, nodeId)]));
  const workers = await Promise.all(
    nodeIds.flatMap((nodeId) => {
      const activities = createDriverActivities(driver, nodeId);
      return [
        { taskQueue: queues[nodeId], slots: options.maxCalls ?? AGENT_SLOT_DEFAULTS.maxCalls },
        { taskQueue: nodeLongTaskQueue(sharedTaskQueue, nodeId), slots: options.maxLongCalls ?? AGENT_SLOT_DEFAULTS.maxLongCalls },
      ].map(({ taskQueue, slots }) =>
        Worker.create({
          connection,
          namespace,
          taskQueue,
          activities,
          maxConcurrentActivityTaskExecutions: slots,
          // A killed agent's steps are retried after their heartbeat timeout; a stopping one finishes them first.
          shutdownGraceTime: '30 seconds',
        }),
      );
    }),
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
