import { defineQuery } from '@temporalio/workflow';
import type { OperationProgress } from './operations';

/** The shared queue: workflows and orchestration (inventory) activities. */
export const DEFAULT_TASK_QUEUE = 'vmops';

/** Custom search attributes the Temporal namespace must have registered (all Keyword). */
export const SEARCH_ATTRIBUTE_NAMES = ['VmId', 'TenantId', 'NodeId', 'OperationType'] as const;
export type SearchAttributeName = (typeof SEARCH_ATTRIBUTE_NAMES)[number];

export const progressQuery = defineQuery<OperationProgress>('progress');

/** ApplicationFailure types that mean "retrying will not help". */
export const NON_RETRYABLE_ERROR_TYPES = [
  'DriverNotFoundError',
  'DriverInvalidStateError',
  'DriverCapacityError',
  'InventoryConflictError',
] as const;

/** The task queue of one node's agent: driver activities for that node run there, and only there. */
export function nodeTaskQueue(sharedQueue: string, nodeId: string): string {
  return `${sharedQueue}.node.${nodeId}`;
}
