import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  sleep,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import {
  operationPriority,
  operationSearchAttributes,
  type ScheduledLaunch,
  type ScheduledSnapshotInput,
  type ScheduledSnapshotResult,
  type ScheduledStepOutcome,
  type SnapshotScheduleActivities,
  type VmOperationInput,
} from '../libs/contracts/src';
import { OPERATIONS, type OperationEntry } from './catalogue';
import { BOOKKEEPING_OPTIONS, describe } from './operation-runner';

const schedule = proxyActivities<SnapshotScheduleActivities>(BOOKKEEPING_OPTIONS);

/**
 * One run of a snapshot definition's Temporal Schedule: a snapshot.create operation of the definition's disk (a
 * child workflow with its own operation id, lock and history), then, once it succeeded, a snapshot.delete of the
 * definition's automatic snapshots beyond its retention, oldest first. A busy VM is skipped or waited for, as the
 * definition says. A run that could not take its snapshot fails, so the Schedule's recent actions show it.
 */
export async function scheduledSnapshotWorkflow(input: ScheduledSnapshotInput): Promise<ScheduledSnapshotResult> {
  const takenAt = new Date().toISOString();
  const snapshot = await runOperation(input, OPERATIONS['snapshot.create'], (operationId) =>
    schedule.launchScheduledSnapshot({ definitionId: input.definitionId, scheduleId: input.scheduleId, operationId, takenAt }),
  );
  if (snapshot.outcome === 'failed')
    throw ApplicationFailure.nonRetryable(`the snapshot was not taken: ${snapshot.detail}`, 'SCHEDULED_SNAPSHOT_FAILED', { snapshot });
  const pruning =
    snapshot.outcome === 'succeeded'
      ? await runOperation(input, OPERATIONS['snapshot.delete'], (operationId) =>
          schedule.launchSnapshotPruning({ definitionId: input.definitionId, operationId }),
        )
      : null;
  setCurrentDetails(`Snapshot ${snapshot.outcome}${pruning ? `, pruning ${pruning.outcome}` : ''}`);
  return { snapshot, pruning };
}

/** Launches one operation (again while the VM is busy, if the definition says so) and awaits it as a child. */
async function runOperation<I extends VmOperationInput>(
  input: ScheduledSnapshotInput,
  { type, workflowType }: OperationEntry<I>,
  launch: (operationId: string) => Promise<ScheduledLaunch<I>>,
): Promise<ScheduledStepOutcome> {
  for (let attempt = 1; ; attempt++) {
    const operationId = uuid4();
    const launched = await launch(operationId);
    if ('nothing' in launched) return { outcome: 'nothing', operationId: null, detail: launched.nothing };
    if ('refused' in launched)
      return { outcome: 'failed', operationId: null, detail: `${launched.refused.code}: ${launched.refused.message}` };
    if ('busy' in launched) {
      const busy = `the VM is busy with operation ${launched.busy.operationId} (${launched.busy.type})`;
      if (launched.busy.onBusy === 'skip' || attempt > input.busyRetry.attempts) {
        return {
          outcome: 'skipped',
          operationId: null,
          detail: launched.busy.onBusy === 'skip' ? busy : `${busy}; gave up after ${attempt} tries`,
        };
      }
      setCurrentDetails(
        `${type}: ${busy}; trying again in ${input.busyRetry.intervalSeconds} s (${attempt} of ${input.busyRetry.attempts})`,
      );
      await sleep(input.busyRetry.intervalSeconds * 1000);
      continue;
    }
    const { workflowId, tenantId, input: operation } = launched.started;
    setCurrentDetails(`${type} of ${operation.hostname}: operation ${operationId}`);
    const child = await startChild(workflowType, {
      workflowId,
      args: [operation],
      typedSearchAttributes: operationSearchAttributes({ type, tenantId, vmId: operation.vmId, nodeId: operation.nodeId }),
      priority: operationPriority(tenantId),
      staticSummary: `${type} ${operation.hostname} (scheduled)`,
      // A run that is terminated leaves its operation to finish on its own.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    try {
      await child.result();
      return { outcome: 'succeeded', operationId, detail: null };
    } catch (err) {
      return { outcome: 'failed', operationId, detail: describe(err instanceof ChildWorkflowFailure ? err.cause : err).message };
    }
  }
}
