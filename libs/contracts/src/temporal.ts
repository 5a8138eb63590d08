import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OperationProgress } from './operations';

/** The shared queue: workflows and orchestration (inventory) activities. */
export const DEFAULT_TASK_QUEUE = 'vmops';

/** Custom search attributes the Temporal namespace must have registered (all Keyword). */
export const SEARCH_ATTRIBUTE_NAMES = ['VmId', 'TenantId', 'NodeId', 'OperationType'] as const;
export type SearchAttributeName = (typeof SEARCH_ATTRIBUTE_NAMES)[number];

export const progressQuery = defineQuery<OperationProgress>('progress');

/**
 * Tells an operation parked at a `finalize` wait step to go on (a two-phase migration: clean up the source). Refused
 * by the workflow's validator unless it is waiting for exactly that.
 */
export const finalizeUpdate = defineUpdate<{ finalizedAt: string }>('finalize');

/**
 * Failure types after which an undo is not retried. A defect of the plan or its routing never heals; and since
 * every undo is idempotent (what it would undo being absent is no error), a "not found" from one means the node
 * has lost what the undo acts on, which retrying does not bring back. Anything else an undo meets — a VM still
 * stopping, a node busy or unreachable — is retried, for as long as the undo policy allows.
 */
export const UNDO_NON_RETRYABLE_ERROR_TYPES = ['MisroutedStep', 'PlanError', 'DriverNotFoundError'] as const;

/** Failure types after which a forward step is not retried: retrying cannot change the answer. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'DriverInvalidStateError',
  'DriverCapacityError',
  'InventoryConflictError',
  'GuestDidNotStop',
  ...UNDO_NON_RETRYABLE_ERROR_TYPES,
] as const;

/**
 * Which failures end a step for good, by these two lists: a forward step's (NON_RETRYABLE_ERROR_TYPES) or an undo's
 * (UNDO_NON_RETRYABLE_ERROR_TYPES). Inventory steps are told by their retry policies, which hold the list. A driver
 * step's retry policy is recorded in the history with every call, and the list is most of it (about 100 bytes a
 * call): so a driver call's policy names no type, the call says whether it is an undo (DRIVER_UNDO_ARG), and the
 * agent that ran it marks its failure non-retryable by this function (see step() in @vmops/activities).
 */
export function endsStep(failureType: string, asUndo: boolean): boolean {
  const types: readonly string[] = asUndo ? UNDO_NON_RETRYABLE_ERROR_TYPES : NON_RETRYABLE_ERROR_TYPES;
  return types.includes(failureType);
}

/** The argument that marks a driver call as an undo (`true`); absent on a forward step. */
export const DRIVER_UNDO_ARG = 'undo';

/** The task queue of one node's agent: driver activities for that node run there, and only there. */
export function nodeTaskQueue(sharedQueue: string, nodeId: string): string {
  return `${sharedQueue}.node.${nodeId}`;
}

/** The task queue of one node's long driver calls (isLongDriverActivity), served by the same agent in slots of their own. */
export function nodeLongTaskQueue(sharedQueue: string, nodeId: string): string {
  return `${nodeTaskQueue(sharedQueue, nodeId)}.long`;
}
