import { proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { nodeTaskQueue, type DriverActivities, type NodeRead, type StepReport } from '../libs/contracts/src';

/**
 * Reads are quick and have no undo; when the node's agent is not polling, the read gives up after
 * scheduleToClose instead of waiting for it, and the API answers 503.
 */
const READ_OPTIONS: ActivityOptions = {
  scheduleToCloseTimeout: '10 seconds',
  startToCloseTimeout: '8 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: ['DriverNotFoundError', 'DriverInvalidStateError'] },
};

const reads = proxyActivities<DriverActivities>(READ_OPTIONS);

/**
 * What the API asks a node's hypervisor (audit, a VM's live state, …): run as a short workflow so the call
 * reaches the node's agent through its task queue, as every other driver call does.
 */
export async function readNodeWorkflow(read: NodeRead): Promise<unknown> {
  const fn = reads[read.activity] as unknown as { executeWithOptions(o: ActivityOptions, a: [unknown]): Promise<StepReport> };
  const report = await fn.executeWithOptions(
    { taskQueue: nodeTaskQueue(workflowInfo().taskQueue, read.args.nodeId), summary: read.summary },
    [read.args],
  );
  return report.result ?? null;
}
