import { defineSearchAttributeKey, SearchAttributeType, type Priority, type SearchAttributePair } from '@temporalio/common';
import type { OperationType } from './operations';

export const VmIdKey = defineSearchAttributeKey('VmId', SearchAttributeType.KEYWORD);
export const TenantIdKey = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const NodeIdKey = defineSearchAttributeKey('NodeId', SearchAttributeType.KEYWORD);
export const OperationTypeKey = defineSearchAttributeKey('OperationType', SearchAttributeType.KEYWORD);

/** An operation's search attributes: findable by VM (when it acts on one), tenant, node and type. */
export function operationSearchAttributes(op: {
  type: OperationType;
  tenantId: string;
  vmId: string | null;
  nodeId: string;
}): SearchAttributePair[] {
  return [
    ...(op.vmId ? [{ key: VmIdKey, value: op.vmId }] : []),
    { key: TenantIdKey, value: op.tenantId },
    { key: NodeIdKey, value: op.nodeId },
    { key: OperationTypeKey, value: op.type },
  ];
}

/** An operation's readable workflow id: `vm-migrate-web-1-1a2b3c4d` (type, the VM's hostname or the node's name, the operation's id). */
export function operationWorkflowId(type: OperationType, name: string, operationId: string): string {
  return `${type.replace('.', '-')}-${name}-${operationId.slice(0, 8)}`;
}

/**
 * The Temporal priority an operation's workflow starts with: its tenant is its fairness key. With fairness on (the
 * stack's server runs with `matching.enableFairness`), the matching service dispatches the tasks of a queue's
 * backlog in turn by key instead of first in, first out: a burst of one tenant's operations no longer holds every
 * other tenant's behind it. Activities and child workflows inherit it. A tenant id is a UUID, well within the
 * 64 bytes a key may have.
 */
export function operationPriority(tenantId: string): Priority {
  return { fairnessKey: tenantId };
}
