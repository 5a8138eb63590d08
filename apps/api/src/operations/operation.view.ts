import {
  isTerminalOperationStatus,
  type OperationError,
  type OperationProgress,
  type OperationStatus,
  type OperationStep,
  type OperationType,
  type OperationWait,
  type StepProgress,
} from '@vmops/contracts';
import type { OperationEntity } from '@vmops/persistence';

export interface OperationView {
  id: string;
  type: OperationType;
  status: OperationStatus;
  vmId: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  deadline: string | null;
  /** Still running past its deadline: someone should look at it. */
  overdue: boolean;
  /**
   * `stepPercent`: how far the running step has got, as its driver call reports it (a migration's copy, a graceful
   * stop's wait); `stepBytes`, the bytes it moved so far out of all it moves (a migration's copy); null when the
   * step reports nothing. `children`: for an operation made of others (a drain), how many moved, failed, remain.
   */
  progress: {
    step: string | null;
    stepsDone: number;
    stepsTotal: number;
    percent: number;
    stepPercent: number | null;
    stepBytes: { transferred: number; total: number } | null;
    children: { succeeded: number; failed: number; remaining: number } | null;
  };
  steps: OperationStep[];
  error: OperationError | null;
  /** True while a cancel can still take effect: not before the operation ends or passes its point of no return. */
  mayCancel: boolean;
  /** While it runs: the step past which nothing is undone (a `commit` step), once it has passed it; else null. */
  pointOfNoReturn: string | null;
  /** Parked at a wait step (a two-phase migration after its switch-over): what it waits for, and until when. */
  waiting: OperationWait | null;
  /** Operations this one started (a drain's migrations), each with the status of the step that stands for it. */
  children: { step: string; operationId: string; vmId: string; status: string; link: string }[];
  resources: { vms: string[] };
  links: { self: string; vm: string | null; temporalUi: string };
}

/** The running step's activity as Temporal holds it: its last heartbeat, the attempt it is on, why the last one failed. */
export interface RunningActivity {
  progress: StepProgress | null;
  attempt: number;
  lastFailure: string | null;
}

/**
 * What the view is made of: the operation's record without what only its launch and the inventory use (its request,
 * reservations, Idempotency-Key: the largest of it). Reads for the view select these columns only; an end's
 * announcement carries them (ANNOUNCED_OPERATION_COLUMNS), and is used only when it carries all of them.
 */
export const OPERATION_RECORD_FIELDS = [
  'id',
  'type',
  'status',
  'vmId',
  'workflowId',
  'steps',
  'error',
  'children',
  'createdAt',
  'updatedAt',
  'deadlineAt',
  'finishedAt',
] as const satisfies readonly (keyof OperationEntity)[];
export type OperationRecord = Pick<OperationEntity, (typeof OPERATION_RECORD_FIELDS)[number]>;

export interface TemporalUiLocation {
  uiUrl: string;
  namespace: string;
}

/** The operation as the consumer sees it: the database record, overlaid with the workflow's live progress. */
export function toOperationView(
  op: OperationRecord,
  live: OperationProgress | null,
  ui: TemporalUiLocation,
  now = new Date(),
  running: RunningActivity | null = null,
): OperationView {
  // The workflow's own status turns final a step before the record does (its last step records the end and frees
  // the VM). Until then the operation is not final to a client: one that saw "succeeded" and sent its next request
  // would find the VM still held. It reads as the record says (running, cancelling) meanwhile.
  const finishing = live !== null && isTerminalOperationStatus(live.status) && !isTerminalOperationStatus(op.status);
  const status = finishing ? op.status : (live?.status ?? op.status);
  // A step retrying: the workflow learns its attempts when it ends; Temporal knows them while it runs.
  const steps = (live?.steps ?? op.steps).map((s) =>
    s.status === 'running' && running
      ? { ...s, attempts: Math.max(s.attempts, running.attempt), error: running.lastFailure ?? s.error }
      : s,
  );
  const stepProgress = running?.progress ?? null;
  const stepsDone = steps.filter((s) => s.status === 'succeeded' || s.status === 'compensated').length;
  const current = steps.find((s) => s.status === 'running') ?? null;
  return {
    id: op.id,
    type: op.type,
    status,
    vmId: op.vmId,
    createdAt: op.createdAt.toISOString(),
    updatedAt: op.updatedAt.toISOString(),
    finishedAt: op.finishedAt?.toISOString() ?? null,
    deadline: op.deadlineAt?.toISOString() ?? null,
    overdue: !isTerminalOperationStatus(status) && !finishing && op.deadlineAt !== null && op.deadlineAt.getTime() < now.getTime(),
    progress: {
      step: current?.name ?? null,
      stepsDone,
      stepsTotal: steps.length,
      percent: status === 'succeeded' ? 100 : steps.length ? Math.floor((100 * stepsDone) / steps.length) : 0,
      stepPercent: current ? (stepProgress?.percent ?? null) : null,
      stepBytes:
        current && stepProgress?.bytesTotal !== undefined && stepProgress.bytesTransferred !== undefined
          ? { transferred: stepProgress.bytesTransferred, total: stepProgress.bytesTotal }
          : null,
      children: op.type === 'node.drain' ? countChildren(steps) : null,
    },
    steps,
    error: live ? live.error : op.error,
    mayCancel: (status === 'pending' || status === 'running') && !finishing && !live?.committed,
    pointOfNoReturn: live?.committed ?? null,
    waiting: live?.waiting ?? null,
    children: (live?.children ?? op.children ?? []).map((c) => ({
      ...c,
      status: steps.find((s) => s.name === c.step)?.status ?? 'pending',
      link: `/v1/operations/${c.operationId}`,
    })),
    resources: { vms: op.vmId ? [`/v1/vms/${op.vmId}`] : [] },
    links: {
      self: `/v1/operations/${op.id}`,
      vm: op.vmId ? `/v1/vms/${op.vmId}` : null,
      temporalUi: `${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(op.workflowId)}`,
    },
  };
}

/** A drain's VMs: moved (or gone meanwhile), failed to move, not done yet. */
function countChildren(steps: OperationStep[]): { succeeded: number; failed: number; remaining: number } {
  const succeeded = steps.filter((s) => s.status === 'succeeded').length;
  const failed = steps.filter((s) => s.status === 'failed').length;
  return { succeeded, failed, remaining: steps.length - succeeded - failed };
}
