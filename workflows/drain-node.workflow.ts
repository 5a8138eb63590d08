import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import {
  operationPriority,
  operationSearchAttributes,
  pendingStep,
  progressQuery,
  type ChildOperation,
  type DrainActivities,
  type DrainNodeInput,
  type OperationError,
  type OperationProgress,
  type OperationStatus,
} from '../libs/contracts/src';
import type { migrateVmWorkflow } from './operations.workflow';
import { BOOKKEEPING_OPTIONS, bookkeeping, describe, execute } from './operation-runner';
import { migrationSummary } from './plans/vm.migrate.plan';

const drain = proxyActivities<DrainActivities>(BOOKKEEPING_OPTIONS);

/**
 * node.drain: migrates every VM of the node off it, each as a vm.migrate operation of its own (a child workflow,
 * with its own operation id, lock and history), at most `concurrency` at once; placement picks each target. A VM
 * that cannot move is reported (its step fails with the reason) and the drain goes on. A cancel starts no new
 * migration and cancels the running ones, which roll back — or finish, past their point of no return.
 */
export async function drainNodeWorkflow(input: DrainNodeInput): Promise<void> {
  const steps = input.vms.map((vm) => pendingStep(`migrate:${vm.hostname}`));
  const children: ChildOperation[] = [];
  const running = new Map<string, string>();
  let status: OperationStatus = 'running';
  let error: OperationError | null = null;
  const progress = (): OperationProgress => ({ status, steps, error, committed: null, children });
  setHandler(progressQuery, progress);
  let cancelled = false;
  CancellationScope.current().cancelRequested.catch(() => {
    cancelled = true;
    if (status === 'running') status = 'cancelling';
    // The migrations run in a scope of their own (see below): each is told to cancel, and is awaited.
    for (const workflowId of running.values())
      void CancellationScope.nonCancellable(() => getExternalWorkflowHandle(workflowId).cancel()).catch(() => undefined);
  });

  const marked = await execute(bookkeeping, {
    activity: 'markOperationRunning',
    args: { operationId: input.operationId },
    summary: 'Mark the drain running',
  });
  if (marked.result === false) return;

  const migrateOne = async (i: number): Promise<void> => {
    const vm = input.vms[i];
    const record = steps[i];
    record.status = 'running';
    record.attempts = 1;
    record.startedAt = new Date().toISOString();
    const done = (outcome: 'succeeded' | 'failed', why: string | null = null) => {
      record.status = outcome;
      record.error = why;
      record.finishedAt = new Date().toISOString();
    };
    // Launched, started and awaited shielded from the drain's cancel: a migration recorded is always started,
    // and one started is always seen to its end. The cancel reaches it through its own handle instead.
    await CancellationScope.nonCancellable(async () => {
      const operationId = uuid4();
      const launch = await drain.launchDrainMigration({
        drainOperationId: input.operationId,
        requestedByTenantId: input.tenantId,
        operationId,
        vmId: vm.vmId,
        nodeId: input.nodeId,
      });
      if ('gone' in launch) return done('succeeded', null);
      if ('refused' in launch) return done('failed', `${launch.refused.code}: ${launch.refused.message}`);
      const { workflowId, tenantId, input: migration } = launch.started;
      children.push({ step: record.name, operationId, vmId: vm.vmId });
      setCurrentDetails(`Migrating ${vm.hostname} to ${migration.targetNodeName}`);
      const child = await startChild<typeof migrateVmWorkflow>('migrateVmWorkflow', {
        workflowId,
        args: [migration],
        typedSearchAttributes: operationSearchAttributes({ type: 'vm.migrate', tenantId, vmId: vm.vmId, nodeId: migration.nodeId }),
        // The VM's tenant, not the drain's: each migration takes its turn with its own tenant's operations.
        priority: operationPriority(tenantId),
        staticSummary: migrationSummary(migration),
        // A drain that is terminated leaves its migrations to finish on their own.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      running.set(operationId, workflowId);
      if (cancelled)
        void getExternalWorkflowHandle(workflowId)
          .cancel()
          .catch(() => undefined);
      try {
        await child.result();
        done('succeeded');
      } catch (err) {
        const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
        done('failed', isCancellation(cause) ? 'cancelled: the migration rolled back' : describe(cause).message);
      } finally {
        running.delete(operationId);
      }
    });
  };

  const queue = input.vms.map((_, i) => i);
  const lanes = Array.from({ length: Math.min(input.concurrency, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined && !cancelled; next = queue.shift()) await migrateOne(next);
  });
  await Promise.all(lanes);

  const failed = steps.filter((s) => s.status === 'failed');
  const left = steps.filter((s) => s.status === 'pending');
  if (cancelled) {
    status = 'cancelled';
    error = { code: 'CANCELLED', message: `cancelled on request: ${left.length} VM(s) not tried, ${failed.length} not moved`, step: null };
  } else if (failed.length) {
    status = 'failed';
    error = {
      code: 'VMS_NOT_MOVED',
      message: `${failed.length} of ${steps.length} VM(s) could not move off ${input.nodeName}: ${failed.map((s) => `${s.name.slice('migrate:'.length)} (${s.error})`).join('; ')}`,
      step: failed[0].name,
    };
  } else {
    status = 'succeeded';
  }
  setCurrentDetails(`Drain ${status}: ${steps.length - failed.length - left.length} of ${steps.length} VM(s) moved`);
  await CancellationScope.nonCancellable(() =>
    execute(bookkeeping, {
      activity: 'finishOperation',
      args: { operationId: input.operationId, vmId: null, progress: progress() },
      summary: `Record the drain as ${status}`,
    }),
  );
  if (cancelled) throw new CancelledFailure('cancelled on request');
  if (error) throw ApplicationFailure.nonRetryable(error.message, error.code, { status, error });
}
