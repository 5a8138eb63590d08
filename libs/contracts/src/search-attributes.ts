import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
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
