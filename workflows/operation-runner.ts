import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityInterfaceFor,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import {
  DRIVER_UNDO_ARG,
  finalizeUpdate,
  isDriverActivity,
  isWaitStep,
  NodeIdKey,
  NON_RETRYABLE_ERROR_TYPES,
  nodeLongTaskQueue,
  nodeTaskQueue,
  isLongDriverCall,
  pendingSteps,
  progressQuery,
  type ActivityCall,
  type OperationActivities,
  type OperationError,
  type OperationPlan,
  type OperationProgress,
  type OperationStatus,
  type OperationStep,
  type OperationWait,
  type PlanStep,
  type WaitStep,
  type StepFailureDetails,
  type StepReport,
  UNDO_NON_RETRYABLE_ERROR_TYPES,
} from '../libs/contracts/src';

/**
 * Forward steps: retried with backoff until they succeed or fail permanently. A cancel waits for the call in
 * flight to end, so that nothing a step does can land after its undo has run.
 */
const STEP_OPTIONS: ActivityOptions = {
  // Long enough for a graceful stop's timeout; a dead agent is caught by the heartbeat timeout, not by this.
  startToCloseTimeout: '15 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/**
 * Undos are retried longer, and through the errors that stop a forward step: a driver that answers "invalid
 * state" to an undo (a VM still stopping, say) may well accept it a moment later, and giving up leaves the
 * operation stuck for a human. Only UNDO_NON_RETRYABLE_ERROR_TYPES end an undo at once: an inventory step is held
 * to this policy's list, and a driver step's agent applies the same list, told the call is an undo (see
 * Proxies.sagaRole).
 */
const UNDO_OPTIONS: ActivityOptions = {
  ...STEP_OPTIONS,
  retry: { ...STEP_OPTIONS.retry, maximumAttempts: 20, nonRetryableErrorTypes: [...UNDO_NON_RETRYABLE_ERROR_TYPES] },
};

/**
 * Bookkeeping in PostgreSQL: must land, so it retries without a limit on attempts. Launching an operation from a
 * workflow (a drain's migrations, a scheduled run's snapshot) is such a write too.
 */
export const BOOKKEEPING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * An inventory step is one short transaction (bounded by DB_TIMEOUT_MS): one that has not answered by then ran on a
 * worker that died, and is retried elsewhere rather than after the 15 minutes a driver step may take.
 */
const INVENTORY_STEP_TIMEOUT = '1 minute';

/** One retry policy's activities: driver calls (on the nodes' queues), and inventory steps, local or (before
 * `local-inventory-steps`) remote. */
export interface Proxies {
  driver: ActivityInterfaceFor<OperationActivities>;
  remote: ActivityInterfaceFor<OperationActivities>;
  local: LocalActivityInterfaceFor<OperationActivities>;
  /**
   * The policy is a saga's (a forward step's, or an undo's): its driver calls are recorded without the list of
   * failure types that end them, which the agent applies itself (endsStep in @vmops/contracts), told by the call
   * whether it is an undo. That list was most of each driver call's recorded policy.
   */
  sagaRole?: 'step' | 'undo';
}

function withoutNamedTypes(retry: NonNullable<ActivityOptions['retry']>): ActivityOptions['retry'] {
  const copy = { ...retry };
  delete copy.nonRetryableErrorTypes;
  return copy;
}

export function proxiesOf(options: ActivityOptions, sagaRole?: Proxies['sagaRole']): Proxies {
  const driverRetry = sagaRole && options.retry ? withoutNamedTypes(options.retry) : options.retry;
  return {
    driver: proxyActivities<OperationActivities>({ ...options, retry: driverRetry }),
    remote: proxyActivities<OperationActivities>(options),
    local: proxyLocalActivities<OperationActivities>({
      startToCloseTimeout: INVENTORY_STEP_TIMEOUT,
      retry: options.retry,
      cancellationType: options.cancellationType,
    }),
    sagaRole,
  };
}

const steps = proxiesOf(STEP_OPTIONS, 'step');
const undos = proxiesOf(UNDO_OPTIONS, 'undo');
/** The runner's own writes (mark running, finish): shared with workflows that run no plan (a drain). */
export const bookkeeping = proxiesOf(BOOKKEEPING_OPTIONS);

/** Driver steps heartbeat (see step() in @vmops/activities): an agent killed mid-step is retried this soon. */
const DRIVER_HEARTBEAT_TIMEOUT = '10 seconds';
/**
 * A long call (a guest's power-off, a copy) runs for minutes; with thousands of them running at once, a heartbeat to
 * the server every 8 s each (the SDK's throttle: 0.8 × the timeout) loads the Temporal server more than the
 * operations do. A minute still notices a dead agent long before the call would have ended.
 */
const LONG_DRIVER_HEARTBEAT_TIMEOUT = '1 minute';

/**
 * Runs one activity call. A driver call goes to the task queue of the node it names, where that node's agent
 * polls (a long call to that node's queue for long calls). The queue and the heartbeat timeout are not part of what a
 * replay checks (Temporal matches a scheduled activity by its id and type: the replay suite holds histories whose
 * long calls went to the node's one queue and heartbeated every 10 s), so changing either needs no patch.
 *
 * Everything else is an inventory write in PostgreSQL, which the worker running the workflow does itself, as a local
 * activity: no task to schedule, dispatch and report through the Temporal server, one marker in the history instead
 * of three events and a workflow task, and the next step follows in the same workflow task. A worker that dies in
 * one has its workflow task retried elsewhere within seconds, which runs the step again (every step is idempotent).
 * Workflows that scheduled them as activities before (no `local-inventory-steps` marker) go on doing so.
 */
export function execute(proxies: Proxies, call: ActivityCall, observed?: unknown): Promise<StepReport> {
  type Callable = { executeWithOptions(options: ActivityOptions | LocalActivityOptions, args: [unknown]): Promise<StepReport> };
  const args: [unknown] = [call.observes ? { ...call.args, observed } : call.args];
  if (!isDriverActivity(call.activity)) {
    if (patched('local-inventory-steps')) {
      return (proxies.local[call.activity] as unknown as Callable).executeWithOptions({ summary: call.summary }, args);
    }
    return (proxies.remote[call.activity] as unknown as Callable).executeWithOptions(
      { summary: call.summary, startToCloseTimeout: INVENTORY_STEP_TIMEOUT },
      args,
    );
  }
  // The node is the queue's (the agent serves one node): the call's arguments leave it out, as the history would
  // hold it twice otherwise. An undo says so, where the agent decides which failures end it (Proxies.sagaRole).
  const { nodeId, ...onNode } = args[0] as { nodeId: string };
  const long = isLongDriverCall(call);
  return (proxies.driver[call.activity] as unknown as Callable).executeWithOptions(
    {
      summary: call.summary,
      taskQueue: (long ? nodeLongTaskQueue : nodeTaskQueue)(workflowInfo().taskQueue, nodeId),
      heartbeatTimeout: long ? LONG_DRIVER_HEARTBEAT_TIMEOUT : DRIVER_HEARTBEAT_TIMEOUT,
    },
    [proxies.sagaRole === 'undo' ? { ...onNode, [DRIVER_UNDO_ARG]: true } : onNode],
  );
}

function attemptsOf(err: unknown): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as StepFailureDetails | undefined;
    if (typeof details?.attempt === 'number') return details.attempt;
  }
  return 1;
}

export function describe(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'STEP_FAILED', message: cause.message };
  if (cause instanceof Error) return { code: cause.name, message: cause.message };
  return { code: 'STEP_FAILED', message: String(cause) };
}

interface DoneStep {
  record: OperationStep;
  undo?: ActivityCall;
  /** Where the step moved the VM: its undo moves it back (see PlannedStep.movesVm). */
  movesVm?: { from: string; to: string };
  /** The step failed: its effect may have landed all the same (a reply lost, an agent killed after the call). */
  failed?: boolean;
}

/**
 * Runs an operation plan as a saga: each step's undo is registered right after the step succeeds (and after it
 * fails, since its effect may have landed); on a failure or a cancellation the registered undos run newest
 * first, shielded from cancellation. An undo that keeps failing stops the compensation and leaves the
 * operation `stuck`, naming it. Past a `commit` step nothing is undone: the steps after it run shielded from
 * cancellation, and a failure there leaves the operation `stuck`. A wait step parks the operation until its
 * Update (finalizeUpdate) tells it to go on or its timeout passes; the Update is refused whenever the operation is
 * not parked at such a step.
 *
 * The workflow exposes its progress through `progressQuery` and writes the final state to PostgreSQL
 * before it returns. A failed operation fails the workflow execution too, so the Temporal UI agrees.
 */
export async function runOperation(ids: { operationId: string; vmId: string | null }, plan: OperationPlan<PlanStep>): Promise<void> {
  const records = pendingSteps(plan);
  let status: OperationStatus = 'running';
  let error: OperationError | null = null;
  let committed: string | null = null;
  let waiting: OperationWait | null = null;
  let released: string | null = null;
  const progress = (): OperationProgress => ({ status, steps: records, error, committed, ...(waiting ? { waiting } : {}) });
  setHandler(progressQuery, progress);
  setHandler(
    finalizeUpdate,
    () => {
      released = new Date().toISOString();
      return { finalizedAt: released };
    },
    {
      validator: () => {
        if (waiting?.for !== 'finalize' || status !== 'running') throw new Error('the operation is not waiting to be finalized');
      },
    },
  );

  /** A wait step: parked until its Update arrives or its timeout passes; a cancel meanwhile ends it (CancelledFailure). */
  const park = async (step: WaitStep): Promise<StepReport> => {
    released = null;
    waiting = { for: step.wait.for, step: step.name, until: new Date(Date.now() + step.wait.timeoutSeconds * 1000).toISOString() };
    setCurrentDetails(`Waiting: ${step.wait.summary} (until ${waiting.until})`);
    try {
      const told = await condition(() => released !== null, step.wait.timeoutSeconds * 1000);
      return { attempt: 1, result: told ? { by: 'request', at: released } : { by: 'timeout', at: new Date().toISOString() } };
    } finally {
      waiting = null;
    }
  };
  // The steps in flight finish first (see STEP_OPTIONS); meanwhile the operation reads as cancelling. Past the
  // point of no return a cancel changes nothing, and the operation keeps reading as running.
  CancellationScope.current().cancelRequested.catch(() => {
    if (status === 'running' && !committed) status = 'cancelling';
  });

  const done: DoneStep[] = [];
  const results = new Map<string, unknown>();
  let failure: unknown = null;

  try {
    const marked = await execute(bookkeeping, {
      activity: 'markOperationRunning',
      args: { operationId: ids.operationId },
      summary: 'Mark the operation running',
    });
    // Settled before this workflow ran (cancelled, or given up as never started): it is not ours to run any more.
    if (marked.result === false) {
      setCurrentDetails('The operation was settled before its workflow started: nothing to do');
      return;
    }
    for (const [i, step] of plan.steps.entries()) {
      // A cancel that arrived while the previous step ran: that step's undo is registered, no new step starts.
      // Past the point of no return a cancel is too late: the remaining steps run shielded from it, to the end.
      if (CancellationScope.current().consideredCancelled && !committed) throw new CancelledFailure('cancelled on request');
      const shielded = committed !== null && patched('shield-steps-after-commit');
      const record = records[i];
      record.status = 'running';
      record.startedAt = new Date().toISOString();
      setCurrentDetails(`Step ${i + 1}/${plan.steps.length}: ${isWaitStep(step) ? step.wait.summary : step.do.summary}`);
      try {
        const run = isWaitStep(step)
          ? () => park(step)
          : () => execute(steps, step.do, step.do.observes ? results.get(step.do.observes) : undefined);
        const report = shielded ? await CancellationScope.nonCancellable(run) : await run();
        results.set(step.name, report.result ?? null);
        record.attempts = report.attempt ?? 1;
        record.status = 'succeeded';
      } catch (err) {
        record.attempts = attemptsOf(err);
        record.status = 'failed';
        const { code, message } = describe(err);
        record.error = isCancellation(err) ? 'cancelled' : message;
        error = isCancellation(err)
          ? { code: 'CANCELLED', message: 'cancelled on request', step: step.name }
          : { code, message, step: step.name };
        // A failed step may still have done its work before it failed: its undo runs too (undos are idempotent,
        // so undoing what never happened changes nothing).
        if (step.undo && patched('undo-failed-step')) done.push({ record, undo: step.undo, movesVm: step.movesVm, failed: true });
        throw err;
      } finally {
        record.finishedAt = new Date().toISOString();
      }
      done.push({ record, undo: step.undo, movesVm: step.movesVm });
      if (step.movesVm) upsertSearchAttributes([{ key: NodeIdKey, value: step.movesVm.to }]);
      if (step.commit) committed = step.name;
    }
    status = 'succeeded';
  } catch (err) {
    failure = err;
    const cancelled = isCancellation(err);
    status = cancelled ? 'cancelling' : 'compensating';
    error ??= cancelled ? { code: 'CANCELLED', message: 'cancelled on request', step: null } : { ...describe(err), step: null };
    if (committed) {
      // Past the point of no return nothing is undone: a human (or an admin reset) settles what is left.
      status = 'stuck';
      error = {
        code: 'FAILED_AFTER_COMMIT',
        message: `${error.message}; nothing was undone: the operation cannot be undone after step "${committed}"`,
        step: error.step,
      };
    } else {
      const stuck = await CancellationScope.nonCancellable(() => compensate(done, plan));
      if (stuck) {
        status = 'stuck';
        error = {
          code: 'COMPENSATION_FAILED',
          message: `undo "${stuck.name}" failed: ${stuck.message}; the first failure was: ${error.message}`,
          step: stuck.name,
        };
      } else if (cancelled) {
        status = 'cancelled';
      } else {
        status = done.some((d) => d.undo && !d.failed) ? 'compensated' : 'failed';
      }
    }
  }

  setCurrentDetails(`Operation ${status}`);
  await CancellationScope.nonCancellable(() =>
    execute(bookkeeping, {
      activity: 'finishOperation',
      args: { operationId: ids.operationId, vmId: ids.vmId, progress: progress() },
      summary: `Record the operation as ${status}`,
    }),
  );

  if (failure !== null) {
    if (isCancellation(failure)) throw failure;
    throw ApplicationFailure.nonRetryable(error?.message ?? 'operation failed', error?.code ?? 'OPERATION_FAILED', { status, error });
  }
}

async function compensate(done: DoneStep[], plan: OperationPlan<PlanStep>): Promise<{ name: string; message: string } | null> {
  for (const step of [...done].reverse()) {
    if (!step.undo) continue;
    setCurrentDetails(`Undo ${step.record.name}: ${step.undo.summary}`);
    try {
      await execute(undos, step.undo);
      if (!step.failed) step.record.status = 'compensated';
      if (step.movesVm && !step.failed) upsertSearchAttributes([{ key: NodeIdKey, value: step.movesVm.from }]);
    } catch (err) {
      step.record.status = 'compensation_failed';
      const { message } = describe(err);
      step.record.error = message;
      return { name: step.undo.activity, message };
    }
  }
  if (plan.afterCompensation) {
    try {
      await execute(bookkeeping, plan.afterCompensation);
    } catch (err) {
      return { name: plan.afterCompensation.activity, message: describe(err).message };
    }
  }
  return null;
}
