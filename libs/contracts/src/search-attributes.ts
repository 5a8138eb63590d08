import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const VmIdKey = defineSearchAttributeKey('VmId', SearchAttributeType.KEYWORD);
export const TenantIdKey = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const NodeIdKey = defineSearchAttributeKey('NodeId', SearchAttributeType.KEYWORD);
export const OperationTypeKey = defineSearchAttributeKey('OperationType', SearchAttributeType.KEYWORD);
