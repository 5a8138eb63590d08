import type { ActivityOptions } from '@temporalio/workflow';
import type { NodeRead } from '../libs/contracts/src';
import { execute, proxiesOf } from './operation-runner';

/**
 * Reads are quick and have no undo; when the node's agent is not polling, the read gives up after
 * scheduleToClose instead of waiting for it, and the API answers 503.
 */
const READ_OPTIONS: ActivityOptions = {
  scheduleToCloseTimeout: '10 seconds',
  startToCloseTimeout: '8 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['DriverNotFoundError', 'DriverInvalidStateError'],
  },
};

const reads = proxiesOf(READ_OPTIONS);

/**
 * What the API asks a node's hypervisor (audit, a VM's live state, …): run as a short workflow so the call
 * reaches the node's agent through its task queue, as every other driver call does.
 */
export async function readNodeWorkflow(read: NodeRead): Promise<unknown> {
  // The runner's execute routes the read to the node's queue, as it does every driver step.
  const report = await execute(reads, read);
  return report.result ?? null;
}
