import type { Db } from './vm-lock';

/** A disk's inventory record. */
export interface DiskRecord {
  id: string;
  tenantId: string;
  vmId: string | null;
  nodeId: string;
  /** Null when detached. */
  position: number | null;
  sizeGb: number;
  templateId: string | null;
}

const toRecord = (row: Record<string, unknown>): DiskRecord => ({
  id: row.id as string,
  tenantId: row.tenant_id as string,
  vmId: row.vm_id as string | null,
  nodeId: row.node_id as string,
  position: row.position as number | null,
  sizeGb: row.size_gb as number,
  templateId: row.template_id as string | null,
});

/** One of the VM's disks, attached or detached; null when the VM has no such disk. */
export async function diskOfVm(tx: Db, vmId: string, diskId: string): Promise<DiskRecord | null> {
  const [row] = await tx.query(`SELECT * FROM disks WHERE id = $1 AND vm_id = $2`, [diskId, vmId]);
  return row ? toRecord(row) : null;
}

/**
 * Records a disk the operation is about to make, detached, so that its storage counts against the node from the
 * launch on (node usage sums the records); the operation's last step records where it is attached.
 */
export async function insertDetachedDisk(
  tx: Db,
  disk: { id: string; tenantId: string; nodeId: string; vmId: string; sizeGb: number; templateId?: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO disks (id, tenant_id, node_id, vm_id, position, size_gb, template_id) VALUES ($1, $2, $3, $4, NULL, $5, $6)`,
    [disk.id, disk.tenantId, disk.nodeId, disk.vmId, disk.sizeGb, disk.templateId ?? null],
  );
}
