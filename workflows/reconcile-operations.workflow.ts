import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { ReconcileReport, ReconcilerActivities } from '../libs/contracts/src';

const { reconcileOperations } = proxyActivities<ReconcilerActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'Settle operations whose workflow ended or never started',
});

/**
 * One pass of the reconciler, run by a Temporal Schedule every minute (see reconciler-schedule.ts): operations
 * that can no longer finish on their own are settled, their VMs freed. Its result lists what it settled.
 */
export async function reconcileOperationsWorkflow(): Promise<ReconcileReport> {
  const report = await reconcileOperations();
  setCurrentDetails(
    report.settled.length
      ? `Settled ${report.settled.length} of ${report.checked} unfinished operations: ${report.settled.map((s) => `${s.type} ${s.operationId} (${s.code})`).join(', ')}`
      : `Checked ${report.checked} unfinished operations: none to settle`,
  );
  return report;
}
