import type { VmStatus } from '@vmops/domain';
import type { EntityManager } from 'typeorm';

/** What a query runs on: a transaction's EntityManager, or the DataSource for a statement of its own. */
export type Db = Pick<EntityManager, 'query'>;

/** The VM as its lock was taken: what a launch needs to plan the operation. */
export interface LockedVmRow {
  id: string;
  tenantId: string;
  hostname: string;
  nodeId: string;
  status: VmStatus;
  frozen: boolean;
  templateId: string | null;
  /** The OS family of the VM's template (graceful stop timeouts differ for windows), if it has one. */
  osFamily: string | null;
  cpus: number;
  memoryMb: number;
  /** A size waiting for the next stop. */
  pendingSize: { cpus: number; memoryMb: number } | null;
}

/**
 * One mutating operation per VM at a time: the lock is the VM row's current_operation_id, taken by one conditional
 * UPDATE, so concurrent launches serialize on the row and exactly one wins. `where` narrows which VM may be taken:
 * the tenant's own (the API), one still on the node (a drain), a settled one (running or stopped: a scheduled run).
 * Null when the VM is not there to take or another operation holds it: vmLockHolder says which.
 */
export async function takeVmLock(
  tx: Db,
  vmId: string,
  operationId: string,
  where: { tenantId?: string; nodeId?: string; settledOnly?: boolean } = {},
): Promise<LockedVmRow | null> {
  const [rows] = await tx.query(
    `UPDATE vms SET current_operation_id = $2, updated_at = now()
      WHERE id = $1 AND current_operation_id IS NULL
        AND ($3::uuid IS NULL OR tenant_id = $3::uuid)
        AND ($4::uuid IS NULL OR node_id = $4::uuid)
        AND (NOT $5::boolean OR status IN ('running', 'stopped'))
      RETURNING id, tenant_id, hostname, node_id, status, frozen, template_id, cpus, memory_mb, pending_cpus, pending_memory_mb,
                (SELECT os_family FROM templates t WHERE t.id = vms.template_id) AS os_family`,
    [vmId, operationId, where.tenantId ?? null, where.nodeId ?? null, where.settledOnly ?? false],
  );
  const row = rows?.[0];
  if (!row) return null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    hostname: row.hostname,
    nodeId: row.node_id,
    status: row.status,
    frozen: row.frozen,
    templateId: row.template_id,
    osFamily: row.os_family,
    cpus: row.cpus,
    memoryMb: row.memory_mb,
    pendingSize: row.pending_cpus ? { cpus: row.pending_cpus, memoryMb: row.pending_memory_mb } : null,
  };
}

/**
 * Frees the VM if `operationId` still holds it (a lock another operation took meanwhile stays), handing it to
 * `handBackTo` where a reset had taken it over from that operation. Idempotent; true if this call freed it.
 */
export async function releaseVmLock(tx: Db, vmId: string, operationId: string, handBackTo: string | null = null): Promise<boolean> {
  const [, released] = await tx.query(
    `UPDATE vms SET current_operation_id = $3, updated_at = now() WHERE id = $1 AND current_operation_id = $2`,
    [vmId, operationId, handBackTo],
  );
  return released > 0;
}

/** Who holds a VM, for the answer to a launch that could not take it; null when there is no such VM (of the tenant). */
export async function vmLockHolder(
  tx: Db,
  vmId: string,
  tenantId?: string,
): Promise<{
  hostname: string;
  nodeId: string;
  status: VmStatus;
  operation: { id: string; type: string; status: string } | null;
} | null> {
  const [vm] = await tx.query(
    `SELECT v.hostname, v.node_id, v.status AS vm_status, v.current_operation_id, o.type, o.status
       FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id
      WHERE v.id = $1 AND ($2::uuid IS NULL OR v.tenant_id = $2::uuid)`,
    [vmId, tenantId ?? null],
  );
  if (!vm) return null;
  return {
    hostname: vm.hostname,
    nodeId: vm.node_id,
    status: vm.vm_status,
    operation: vm.current_operation_id ? { id: vm.current_operation_id, type: vm.type, status: vm.status } : null,
  };
}
