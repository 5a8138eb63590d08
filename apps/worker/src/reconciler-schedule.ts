import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';

/** One reconciler per task queue, readable in the Temporal UI's Schedules list. */
export function reconcilerScheduleId(taskQueue: string): string {
  return `reconcile-operations-${taskQueue}`;
}

/**
 * The reconciler's Temporal Schedule: reconcileOperationsWorkflow every `everySeconds` on the shared task queue,
 * a run skipped while the previous one still runs. Created at the worker's start, or brought up to date; several
 * workers may all call this.
 */
export async function ensureReconcilerSchedule(client: Client, taskQueue: string, everySeconds: number): Promise<void> {
  const scheduleId = reconcilerScheduleId(taskQueue);
  const spec = { intervals: [{ every: `${everySeconds} seconds` as const }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileOperationsWorkflow',
    workflowId: `reconcile-operations-${taskQueue}`,
    taskQueue,
    workflowExecutionTimeout: '10 minutes' as const,
    staticSummary: 'Settle operations whose workflow ended or never started',
  };
  const options: ScheduleOptions = {
    scheduleId,
    spec,
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    state: {
      note: 'Fails operations whose workflow ended without finishing or never started, frees their VMs and gives back what they reserved.',
    },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
}
