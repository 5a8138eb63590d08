import { ApiKeyEntity } from './api-key.entity';
import { DiskEntity } from './disk.entity';
import { NetworkInterfaceEntity } from './network-interface.entity';
import { NodeEntity } from './node.entity';
import { OperationEntity } from './operation.entity';
import { SnapshotEntity } from './snapshot.entity';
import { TemplateEntity } from './template.entity';
import { TenantEntity } from './tenant.entity';
import { VmEntity } from './vm.entity';

export {
  ApiKeyEntity,
  DiskEntity,
  NetworkInterfaceEntity,
  NodeEntity,
  OperationEntity,
  SnapshotEntity,
  TemplateEntity,
  TenantEntity,
  VmEntity,
};
export type { ApiKeyRole } from './api-key.entity';
export type { NodeStatus } from './node.entity';
export type { SnapshotStatus, SnapshotType } from './snapshot.entity';
export type { OsFamily } from './template.entity';

export const ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  NodeEntity,
  TemplateEntity,
  VmEntity,
  DiskEntity,
  SnapshotEntity,
  NetworkInterfaceEntity,
  OperationEntity,
];
