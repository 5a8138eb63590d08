// Plain types shared by the API, the worker and workflow code. Workflow-safe: no Node, no Nest.

export const OPERATION_TYPES = [
  'vm.create',
  'vm.start',
  'vm.stop',
  'vm.shutdown',
  'vm.reboot',
  'vm.hard_reset',
  'vm.freeze',
  'vm.unfreeze',
  'vm.reset',
  'vm.delete',
  'vm.update',
  'vm.rebuild',
  'vm.clone',
  'disk.create',
  'disk.attach',
  'disk.detach',
  'disk.resize',
  'disk.delete',
  'nic.create',
  'nic.attach',
  'nic.detach',
  'nic.delete',
  'snapshot.create',
  'snapshot.delete',
  'snapshot.sync',
  'snapshot.rollback',
  'disk.rollback',
  'vm.migrate',
  'node.drain',
  'template.create',
  'template.delete',
  'disk.copy',
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const OPERATION_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelling',
  'cancelled',
  'compensating',
  'compensated',
  'stuck',
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const TERMINAL_OPERATION_STATUSES: readonly OperationStatus[] = ['succeeded', 'failed', 'cancelled', 'compensated', 'stuck'];

export function isTerminalOperationStatus(status: OperationStatus): boolean {
  return TERMINAL_OPERATION_STATUSES.includes(status);
}

/** What each operation status means to the caller (the README's table is written from it). */
export const OPERATION_STATUS_MEANINGS: Record<OperationStatus, string> = {
  pending: 'Recorded; its workflow is starting (under a burst this may take seconds after the 202: the API goes on starting it).',
  running:
    'Its steps are running (`steps` shows each, `progress` the current one, `waiting` a two-phase migration parked for its finalize).',
  succeeded: 'Every step is done.',
  failed: 'It ended with nothing to undo (also `NEVER_STARTED`, `WORKFLOW_ENDED`: see `error.code`).',
  cancelling: 'A cancel was asked for; its done steps are being undone.',
  cancelled: 'Cancelled on request; the steps it had done are undone.',
  compensating: 'A step failed for good; the steps before it are being undone, newest first.',
  compensated: 'A step failed for good and every earlier step was undone: the VM is as it was.',
  stuck:
    'An undo failed too (`COMPENSATION_FAILED`), or a step failed past the point of no return (`FAILED_AFTER_COMMIT`, e.g. after `vm.delete` deleted the system disk): the VM stays locked and in `error` until an admin reset.',
};

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'compensated' | 'compensation_failed';

/** What each step status means (a step of `steps` in an operation). */
export const STEP_STATUS_MEANINGS: Record<StepStatus, string> = {
  pending: 'Not started yet.',
  running:
    'Running (`attempts` counts its tries, the one running included; it retries with backoff, and `error` says why the last try failed).',
  succeeded: 'Done.',
  failed: 'Failed for good (`error` says why); the operation undoes the steps before it.',
  compensated: 'It had been done and was undone.',
  compensation_failed: 'Its undo failed: the operation is `stuck`.',
};

export interface OperationStep {
  name: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  error: string | null;
}

export interface OperationError {
  code: string;
  message: string;
  step: string | null;
}

/** What a workflow reports about itself: live through a query, and once more when it ends. */
export interface OperationProgress {
  status: OperationStatus;
  steps: OperationStep[];
  error: OperationError | null;
  /**
   * The `commit` step the operation has passed, if any: its point of no return. From there on a cancel changes
   * nothing and a failure is not undone. Absent in progress recorded before it existed.
   */
  committed?: string | null;
  /**
   * A `wait` step the operation is parked at: what it waits for and until when (then it goes on by itself).
   * Absent in progress recorded before wait steps existed.
   */
  waiting?: OperationWait | null;
  /** Operations this one started, each with a step of its own (a drain's migrations). */
  children?: ChildOperation[];
}

export interface ChildOperation {
  /** The parent's step that stands for it. */
  step: string;
  operationId: string;
  vmId: string;
}

/** What a wait step waits for; each has an Update of that name (see finalizeUpdate). */
export type WaitReason = 'finalize';

/** An operation parked at a wait step (a two-phase migration waiting for its finalize). */
export interface OperationWait {
  for: WaitReason;
  step: string;
  /** When the operation goes on without being told to. */
  until: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
