import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { ReconcileReport, ReconcilerActivities } from '@vmops/contracts';
import { deleteQueuedSchedules, NEVER_STARTED_AFTER_MS, settleIfStale, type DescribeWorkflow } from '@vmops/persistence';
import type { DataSource } from 'typeorm';

/** Workflows described at once while reconciling. */
const DESCRIBE_CONCURRENCY = 8;

/**
 * Settles the operations nothing else will: an operation whose workflow ended without finishing it (terminated,
 * timed out) or never started (the API died between recording it and starting it) is failed, its VM freed, and
 * — when it never started — what its launch reserved is given back. Safe to run twice or at once with a launch
 * doing the same: each settlement is one conditional update. It also deletes the Temporal Schedules of snapshot
 * definitions that are gone (queued by their delete trigger).
 */
export function createReconcilerActivities(dataSource: DataSource): ReconcilerActivities {
  return {
    async reconcileOperations(): Promise<ReconcileReport> {
      const ctx = Context.current();
      const describe: DescribeWorkflow = async (workflowId) => {
        try {
          return (await ctx.client.workflow.getHandle(workflowId).describe()).status.name;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return null;
          throw err;
        }
      };
      const unfinished: { id: string }[] = await dataSource.query(
        `SELECT id FROM operations WHERE finished_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY created_at`,
        [NEVER_STARTED_AFTER_MS / 1000],
      );
      const report: ReconcileReport = { checked: unfinished.length, settled: [] };
      for (let i = 0; i < unfinished.length; i += DESCRIBE_CONCURRENCY) {
        ctx.heartbeat(i);
        const settled = await Promise.all(
          unfinished.slice(i, i + DESCRIBE_CONCURRENCY).map((op) => settleIfStale(dataSource, describe, op.id)),
        );
        for (const op of settled) {
          if (!op) continue;
          report.settled.push({ operationId: op.id, type: op.type, vmId: op.vmId, code: op.code });
          ctx.log.warn(`reconciler: settled operation ${op.id} (${op.type}): ${op.code}`);
        }
      }
      // Schedules of snapshot definitions deleted where the API could not reach Temporal (or with their VM or disk).
      report.schedulesDeleted = await deleteQueuedSchedules(dataSource, (id) =>
        ctx.client.schedule
          .getHandle(id)
          .delete()
          .catch((err) => {
            if (!(err instanceof ScheduleNotFoundError)) throw err;
          }),
      );
      return report;
    },
  };
}
