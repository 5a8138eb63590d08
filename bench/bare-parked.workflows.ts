import { proxyActivities } from '@temporalio/workflow';

/** The parked baseline's activity: waits, heartbeating, as a long driver call does. */
export interface ParkedActivities {
  park(): Promise<void>;
}

/** A bare workflow parked on one long activity on a second queue (like a graceful stop on a node's long queue). */
export async function parkedWorkflow(queue: string): Promise<void> {
  await proxyActivities<ParkedActivities>({ taskQueue: queue, startToCloseTimeout: '1 hour', heartbeatTimeout: '1 minute' }).park();
}
