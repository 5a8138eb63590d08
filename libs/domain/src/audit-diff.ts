import type { NodeAudit } from '../../driver/src/driver';
import type { VmStatus } from './vm-status';

/** What the inventory believes one node holds. */
export interface NodeInventory {
  vms: { id: string; status: VmStatus; cpus: number; memoryMb: number; busy: boolean }[];
  /** `vmId` is the disk's owner; it is attached only when it has a position. */
  disks: { id: string; vmId: string | null; position: number | null; sizeGb: number }[];
  /** As for disks: a detached interface may still be a VM's. */
  nics: { id: string; vmId: string | null; position: number | null }[];
  snapshots: { id: string; diskId: string }[];
  /**
   * Migrations an operation still holds its VM for (running, or stuck for a human), by id: the driver's migration
   * ids are their operations' ids. Any other migration the node is part of was left behind.
   */
  migrations: { id: string }[];
}

export type AuditedKind = 'vm' | 'disk' | 'nic' | 'snapshot' | 'migration';

export interface AuditMismatch {
  kind: AuditedKind;
  id: string;
  field: string;
  inventory: unknown;
  node: unknown;
}

export interface AuditDiff {
  /** Nothing orphaned, missing or mismatched. */
  clean: boolean;
  /** On the node, unknown to the inventory: leaked by a step whose undo never ran, or made by hand. */
  orphans: { kind: AuditedKind; id: string }[];
  /** In the inventory, absent from the node. */
  missing: { kind: AuditedKind; id: string }[];
  mismatches: AuditMismatch[];
  /** VMs an operation is changing right now: they and their disks are left out of the comparison. */
  skipped: string[];
}

/** The power state the inventory should record for a VM the node reports in `powerState`. */
function expectedStatus(powerState: NodeAudit['vms'][number]['powerState']): VmStatus {
  return powerState === 'stopped' ? 'stopped' : 'running';
}

/**
 * Compares a node's audit with the inventory of that node: orphans, missing objects and mismatched fields
 * (power state, size, attachment). VMs with an operation in flight are skipped, since a saga half-way is
 * expected to disagree; a VM flagged `error` is compared, so a stuck one shows what a human must fix.
 */
export function diffNodeAudit(audit: NodeAudit, inventory: NodeInventory): AuditDiff {
  const skipped = new Set(inventory.vms.filter((v) => v.busy).map((v) => v.id));
  const skippedDisks = new Set([
    ...inventory.disks.filter((d) => d.vmId && skipped.has(d.vmId)).map((d) => d.id),
    ...audit.disks.filter((d) => d.vmId && skipped.has(d.vmId)).map((d) => d.diskId),
  ]);
  const isSkipped = (kind: AuditedKind, id: string, vmId?: string | null, diskId?: string): boolean =>
    kind === 'vm'
      ? skipped.has(id)
      : (!!vmId && skipped.has(vmId)) || (kind === 'disk' && skippedDisks.has(id)) || (!!diskId && skippedDisks.has(diskId));

  const orphans: AuditDiff['orphans'] = [];
  const missing: AuditDiff['missing'] = [];
  const mismatches: AuditMismatch[] = [];

  function compare<N, I>(
    kind: AuditedKind,
    onNode: N[],
    nodeId: (n: N) => string,
    inInventory: I[],
    inventoryId: (i: I) => string,
    scope: (n: N | undefined, i: I | undefined) => { vmId?: string | null; diskId?: string },
    fields: (n: N, i: I) => [string, unknown, unknown][],
  ): void {
    const byId = new Map(inInventory.map((i) => [inventoryId(i), i]));
    const seen = new Set<string>();
    for (const n of onNode) {
      const id = nodeId(n);
      seen.add(id);
      const i = byId.get(id);
      const { vmId, diskId } = scope(n, i);
      if (isSkipped(kind, id, vmId, diskId)) continue;
      if (!i) {
        orphans.push({ kind, id });
        continue;
      }
      for (const [field, inv, node] of fields(n, i)) {
        if (inv !== node) mismatches.push({ kind, id, field, inventory: inv, node });
      }
    }
    for (const i of inInventory) {
      const id = inventoryId(i);
      const { vmId, diskId } = scope(undefined, i);
      if (!seen.has(id) && !isSkipped(kind, id, vmId, diskId)) missing.push({ kind, id });
    }
  }

  compare(
    'vm',
    audit.vms,
    (n) => n.vmId,
    inventory.vms,
    (i) => i.id,
    () => ({}),
    (n, i) => [
      ['status', i.status, expectedStatus(n.powerState)],
      ['cpus', i.cpus, n.cpus],
      ['memoryMb', i.memoryMb, n.memoryMb],
    ],
  );
  compare(
    'disk',
    audit.disks,
    (n) => n.diskId,
    inventory.disks,
    (i) => i.id,
    (n, i) => ({ vmId: n?.vmId ?? i?.vmId }),
    (n, i) => [
      ['attachedTo', i.position === null ? null : i.vmId, n.vmId],
      ['position', i.position, n.position],
      ['sizeGb', i.sizeGb, n.sizeGb],
    ],
  );
  compare(
    'nic',
    audit.nics,
    (n) => n.nicId,
    inventory.nics,
    (i) => i.id,
    (n, i) => ({ vmId: n?.vmId ?? i?.vmId }),
    (n, i) => [
      ['attachedTo', i.position === null ? null : i.vmId, n.vmId],
      ['position', i.position, n.position],
    ],
  );
  compare(
    'snapshot',
    audit.snapshots,
    (n) => n.snapshotId,
    inventory.snapshots,
    (i) => i.id,
    (n, i) => ({ diskId: n?.diskId ?? i?.diskId }),
    (n, i) => [['diskId', i.diskId, n.diskId]],
  );
  // A reservation on a target, or a copy kept on a source, that no operation holds any more: a leak.
  const held = new Set(inventory.migrations.map((m) => m.id));
  for (const m of audit.migrations) if (!held.has(m.migrationId)) orphans.push({ kind: 'migration', id: m.migrationId });

  return {
    clean: !orphans.length && !missing.length && !mismatches.length,
    orphans,
    missing,
    mismatches,
    skipped: [...skipped].sort(),
  };
}
