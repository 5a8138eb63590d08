import { proxyActivities } from '@temporalio/workflow';

/** The baseline: a bare Temporal workflow running no-op activities, one per step of the operation it stands for. */
export interface BareActivities {
  noop(): Promise<void>;
}

/**
 * Runs one no-op activity per entry of `queues`, in order, each on the task queue it names: all on the bench
 * worker's own queue ("bare"), or the driver steps on a second queue like a node's ("split").
 */
export async function shapedWorkflow(queues: string[]): Promise<void> {
  for (const taskQueue of queues) {
    await proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute', taskQueue }).noop();
  }
}
