import { InitialSchema1763856000000 } from './1763856000000-initial-schema';
import { OperationIdempotency1763900000000 } from './1763900000000-operation-idempotency';
import { OperationEvents1763910000000 } from './1763910000000-operation-events';
import { SnapshotsAndInterfaces1763920000000 } from './1763920000000-snapshots-and-interfaces';
import { DropVmsLocked1763930000000 } from './1763930000000-drop-vms-locked';
import { VmFrozen1764000000000 } from './1764000000000-vm-frozen';
import { InterfaceNetwork1764010000000 } from './1764010000000-interface-network';
import { VmPendingSize1764020000000 } from './1764020000000-vm-pending-size';
import { OperationReservations1764030000000 } from './1764030000000-operation-reservations';
import { OperationRequestedBy1764040000000 } from './1764040000000-operation-requested-by';
import { OperationChildren1764050000000 } from './1764050000000-operation-children';
import { EventNotifyAndReadIndexes1764060000000 } from './1764060000000-event-notify-and-read-indexes';
import { AntiAffinityGroups1764070000000 } from './1764070000000-anti-affinity-groups';
import { SnapshotDefinitions1764080000000 } from './1764080000000-snapshot-definitions';
import { TenantTemplates1764090000000 } from './1764090000000-tenant-templates';
import { InterfaceAddresses1764100000000 } from './1764100000000-interface-addresses';
import { HostnameCaseInsensitive1764110000000 } from './1764110000000-hostname-case-insensitive';
import { ApiKeyPrefix1764120000000 } from './1764120000000-api-key-prefix';
import { ApiKeyChangeNotify1764130000000 } from './1764130000000-api-key-change-notify';
import { AnnounceFinalRecord1764140000000 } from './1764140000000-announce-final-record';

/** Every migration, oldest first. A new one is added here and committed with its entity change. */
export const MIGRATIONS = [
  InitialSchema1763856000000,
  OperationIdempotency1763900000000,
  OperationEvents1763910000000,
  SnapshotsAndInterfaces1763920000000,
  DropVmsLocked1763930000000,
  VmFrozen1764000000000,
  InterfaceNetwork1764010000000,
  VmPendingSize1764020000000,
  OperationReservations1764030000000,
  OperationRequestedBy1764040000000,
  OperationChildren1764050000000,
  EventNotifyAndReadIndexes1764060000000,
  AntiAffinityGroups1764070000000,
  SnapshotDefinitions1764080000000,
  TenantTemplates1764090000000,
  InterfaceAddresses1764100000000,
  HostnameCaseInsensitive1764110000000,
  ApiKeyPrefix1764120000000,
  ApiKeyChangeNotify1764130000000,
  AnnounceFinalRecord1764140000000,
];
