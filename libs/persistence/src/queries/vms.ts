import type { Db } from './vm-lock';

/**
 * What hangs on a VM row `v` (its disks and its interfaces), as two JSON columns of the same statement, so that a page
 * of VMs or one VM is read in one round trip: `disk_list` ({ id, vmId, position, sizeGb }) and `nic_list`
 * ({ id, vmId, position, mac, network, ipAddress }).
 */
export const VM_PARTS = `(SELECT coalesce(json_agg(json_build_object('id', d.id, 'vmId', d.vm_id, 'position', d.position, 'sizeGb', d.size_gb)), '[]')
     FROM disks d WHERE d.vm_id = v.id) AS disk_list,
  (SELECT coalesce(json_agg(json_build_object('id', n.id, 'vmId', n.vm_id, 'position', n.position, 'mac', n.mac,
                                              'network', n.network, 'ipAddress', n.ip_address)), '[]')
     FROM network_interfaces n WHERE n.vm_id = v.id) AS nic_list`;

/** A row of `vms` with VM_PARTS. */
export type VmPartsRow<Disk, Nic> = Record<string, unknown> & { disk_list: Disk[]; nic_list: Nic[] };

/** The tenant's VM with its disks and interfaces (VM_PARTS), in one statement; null when the tenant has none by that id. */
export async function findVmWithParts<Disk, Nic>(db: Db, tenantId: string, vmId: string): Promise<VmPartsRow<Disk, Nic> | null> {
  const [row] = await db.query(`SELECT v.*, ${VM_PARTS} FROM vms v WHERE v.id = $1 AND v.tenant_id = $2`, [vmId, tenantId]);
  return row ?? null;
}
