import { ApplicationFailure } from '@temporalio/common';
import { isTerminalOperationStatus, type InventoryActivities } from '@vmops/contracts';
import { canTransition, VM_STATUSES, type VmStatus } from '@vmops/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { step } from '@vmops/activities';
import { deleteVmRecords, releaseVmLock } from '@vmops/persistence';

/**
 * Moves a VM to `to`, refusing a transition its state machine forbids. One conditional UPDATE (a statement, no
 * transaction around it: the step is a round trip to the database); only when it changes nothing is the VM read, to
 * say why.
 */
async function transitionVm(db: Pick<DataSource, 'query'>, vmId: string, to: VmStatus): Promise<void> {
  const from = VM_STATUSES.filter((status) => canTransition(status, to));
  const [moved] = await db.query(`UPDATE vms SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3::text[]) RETURNING id`, [
    vmId,
    to,
    from,
  ]);
  if (moved.length) return;
  const [vm] = await db.query(`SELECT status FROM vms WHERE id = $1`, [vmId]);
  if (!vm) throw ApplicationFailure.retryable(`VM ${vmId} is not in the inventory`, 'InventoryConflictError');
  throw ApplicationFailure.retryable(`VM ${vmId} cannot go from ${vm.status} to ${to}`, 'InventoryConflictError');
}

/**
 * The VM's disks (or interfaces) are attached where the node has them: its records first all detached (still
 * the VM's, so positions can swap without colliding), then each one the node attaches put at its position, taken
 * over from whoever the inventory thought owned it. Returns what the node attaches that no record exists for.
 */
async function syncAttachments(
  tx: EntityManager,
  table: 'disks' | 'network_interfaces',
  vmId: string,
  onNode: { id: string; position: number }[],
): Promise<string[]> {
  await tx.query(`UPDATE ${table} SET position = NULL WHERE vm_id = $1`, [vmId]);
  const unknown: string[] = [];
  for (const { id, position } of onNode) {
    const [rows] = await tx.query(`UPDATE ${table} SET vm_id = $2, position = $3 WHERE id = $1 RETURNING id`, [id, vmId, position]);
    if (!rows.length) unknown.push(`${table === 'disks' ? 'disk' : 'interface'} ${id} (position ${position})`);
  }
  return unknown;
}

/** Inventory steps: each is one idempotent write to PostgreSQL. */
export function createInventoryActivities(dataSource: DataSource): InventoryActivities {
  return {
    markOperationRunning: step(async ({ operationId }) => {
      const [rows] = await dataSource.query(
        `UPDATE operations SET status = CASE WHEN status = 'pending' THEN 'running' ELSE status END, updated_at = now()
          WHERE id = $1 AND finished_at IS NULL RETURNING id`,
        [operationId],
      );
      return rows.length > 0;
    }),

    recordVmStatus: step(({ vmId, powerState }) => transitionVm(dataSource, vmId, powerState)),

    discardVmRecord: step(({ vmId }) => dataSource.transaction((tx) => deleteVmRecords(tx, vmId))),

    syncVmFromNode: step(async ({ vmId, observed }) => {
      if (observed === undefined) throw ApplicationFailure.retryable('syncVmFromNode needs the getVm step it observes', 'PlanError');
      const unknown = await dataSource.transaction(async (tx) => {
        // The node has no such VM: its record goes, and with it the records of its disks and interface.
        if (observed === null) {
          await deleteVmRecords(tx, vmId);
          return [];
        }
        // A VM still shutting down is recorded running: it is, until the guest has powered off.
        const status = observed.powerState === 'stopped' ? 'stopped' : 'running';
        await tx.query(`UPDATE vms SET status = $2, frozen = $3, cpus = $4, memory_mb = $5, updated_at = now() WHERE id = $1`, [
          vmId,
          status,
          observed.frozen,
          observed.cpus,
          observed.memoryMb,
        ]);
        return [
          ...(await syncAttachments(tx, 'disks', vmId, observed.disks)),
          ...(await syncAttachments(tx, 'network_interfaces', vmId, observed.nics)),
        ];
      });
      if (unknown.length) {
        throw ApplicationFailure.retryable(
          `the rest of the VM was recorded as its node has it, but the inventory has no record of ${unknown.join(', ')} attached to it on the node; record or remove them by hand`,
          'InventoryConflictError',
        );
      }
    }),

    resyncVmFromNode: step(async () => {
      throw ApplicationFailure.retryable(
        'this vm.reset was started by a version without node agents and cannot read the node; start the reset again',
        'OperationOutdated',
      );
    }),

    recordVmFrozen: step(({ vmId, frozen }) =>
      dataSource.query(`UPDATE vms SET frozen = $2, updated_at = now() WHERE id = $1`, [vmId, frozen]),
    ),

    markSnapshotsOk: step(({ snapshotIds }) =>
      dataSource.query(`UPDATE snapshots SET status = 'ok' WHERE id = ANY($1::uuid[])`, [snapshotIds]),
    ),

    forgetSnapshots: step(({ snapshotIds }) => dataSource.query(`DELETE FROM snapshots WHERE id = ANY($1::uuid[])`, [snapshotIds])),

    syncSnapshotRecords: step(({ vmId, observed }) =>
      dataSource.transaction(async (tx) => {
        if (!observed) throw ApplicationFailure.retryable('syncSnapshotRecords needs the listSnapshots step it observes', 'PlanError');
        const [vm] = await tx.query(`SELECT tenant_id FROM vms WHERE id = $1`, [vmId]);
        if (!vm) throw ApplicationFailure.retryable(`VM ${vmId} is not in the inventory`, 'InventoryConflictError');
        const disks: { id: string }[] = await tx.query(`SELECT id FROM disks WHERE vm_id = $1`, [vmId]);
        const diskIds = new Set(disks.map((d) => d.id));
        const onNode = observed.filter((s) => diskIds.has(s.diskId));
        await tx.query(`DELETE FROM snapshots WHERE disk_id = ANY($1::uuid[]) AND NOT (id = ANY($2::uuid[]))`, [
          [...diskIds],
          onNode.map((s) => s.snapshotId),
        ]);
        for (const s of onNode) {
          await tx.query(
            `INSERT INTO snapshots (id, tenant_id, vm_id, disk_id, name, type, status, size_mb, created_at)
             VALUES ($1, $2, $3, $4, $5, 'manual', 'ok', $6, $7)
             ON CONFLICT (id) DO UPDATE SET status = 'ok'`,
            [s.snapshotId, vm.tenant_id, vmId, s.diskId, s.name, s.sizeGb * 1024, s.createdAt],
          );
        }
      }),
    ),

    replaceDiskRecord: step(({ vmId, oldDiskId, newDiskId, position, sizeGb }) =>
      dataSource.transaction(async (tx) => {
        const [old] = await tx.query(`SELECT tenant_id, node_id FROM disks WHERE id = $1 FOR UPDATE`, [oldDiskId]);
        if (!old) throw ApplicationFailure.retryable(`disk ${oldDiskId} is not in the inventory`, 'InventoryConflictError');
        // The old disk stays the VM's, detached, until its deletion is recorded.
        await tx.query(`UPDATE disks SET position = NULL WHERE id = $1`, [oldDiskId]);
        await tx.query(
          `INSERT INTO disks (id, tenant_id, node_id, vm_id, position, size_gb) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET vm_id = EXCLUDED.vm_id, position = EXCLUDED.position`,
          [newDiskId, old.tenant_id, old.node_id, vmId, position, sizeGb],
        );
        // The disk's snapshot definitions follow it: they are about the disk at this position, not one copy of it.
        await tx.query(`UPDATE snapshot_definitions SET disk_id = $2 WHERE disk_id = $1`, [oldDiskId, newDiskId]);
      }),
    ),

    restoreDiskRecord: step(({ vmId, oldDiskId, newDiskId, position }) =>
      dataSource.transaction(async (tx) => {
        await tx.query(`UPDATE snapshot_definitions SET disk_id = $1 WHERE disk_id = $2`, [oldDiskId, newDiskId]);
        await tx.query(`DELETE FROM disks WHERE id = $1`, [newDiskId]);
        await tx.query(`UPDATE disks SET vm_id = $2, position = $3 WHERE id = $1`, [oldDiskId, vmId, position]);
      }),
    ),

    forgetDiskRecord: step(({ diskId }) =>
      dataSource.transaction(async (tx) => {
        await tx.query(`DELETE FROM snapshots WHERE disk_id = $1`, [diskId]);
        await tx.query(`DELETE FROM disks WHERE id = $1`, [diskId]);
      }),
    ),

    recordDiskSlot: step(({ diskId, vmId, position, sizeGb }) =>
      dataSource.query(`UPDATE disks SET vm_id = $2, position = $3, size_gb = $4 WHERE id = $1`, [diskId, vmId, position, sizeGb]),
    ),

    recordNicSlot: step(({ nicId, vmId, position }) =>
      dataSource.query(`UPDATE network_interfaces SET vm_id = $2, position = $3 WHERE id = $1`, [nicId, vmId, position]),
    ),

    forgetNicRecord: step(({ nicId }) => dataSource.query(`DELETE FROM network_interfaces WHERE id = $1`, [nicId])),

    recordVmSize: step(({ vmId, cpus, memoryMb }) =>
      dataSource.query(
        `UPDATE vms SET cpus = $2, memory_mb = $3, pending_cpus = NULL, pending_memory_mb = NULL, updated_at = now() WHERE id = $1`,
        [vmId, cpus, memoryMb],
      ),
    ),

    recordVmNode: step(({ vmId, nodeId }) =>
      dataSource.transaction(async (tx) => {
        await tx.query(`UPDATE disks SET node_id = $2 WHERE vm_id = $1`, [vmId, nodeId]);
        await tx.query(`UPDATE network_interfaces SET node_id = $2 WHERE vm_id = $1`, [vmId, nodeId]);
        const [rows] = await tx.query(`UPDATE vms SET node_id = $2, updated_at = now() WHERE id = $1 RETURNING id`, [vmId, nodeId]);
        if (!rows.length) throw ApplicationFailure.retryable(`VM ${vmId} is not in the inventory`, 'InventoryConflictError');
      }),
    ),

    markTemplateReady: step(({ templateId }) =>
      dataSource.query(`UPDATE templates SET status = 'ready' WHERE id = $1 AND status IN ('creating', 'deleting')`, [templateId]),
    ),

    forgetTemplate: step(({ templateId }) => dataSource.query(`DELETE FROM templates WHERE id = $1`, [templateId])),

    recordVmTemplate: step(({ vmId, templateId }) =>
      dataSource.query(`UPDATE vms SET template_id = $2, updated_at = now() WHERE id = $1`, [vmId, templateId]),
    ),

    forgetVmRecord: step(({ vmId, keepDiskIds }) => dataSource.transaction((tx) => deleteVmRecords(tx, vmId, keepDiskIds))),

    releaseVmLock: step(({ vmId, operationId }) => releaseVmLock(dataSource, vmId, operationId)),

    // A finished operation's record is final: a second attempt of this step (its first committed, then its worker
    // died) changes nothing, and neither does a workflow whose operation was settled without it. One statement: the
    // record, and the VMs it held freed (its own kept, and flagged, when it is stuck: a human looks at it first).
    finishOperation: step(async ({ operationId, vmId, progress }) => {
      const terminal = isTerminalOperationStatus(progress.status);
      await dataSource.query(
        `WITH finished AS (
           UPDATE operations SET status = $2, steps = $3::jsonb, error = $4::jsonb, updated_at = now(),
                  finished_at = CASE WHEN $5 THEN now() ELSE NULL END, children = $6::jsonb
            WHERE id = $1 AND finished_at IS NULL RETURNING id
         ), released AS (
           UPDATE vms SET current_operation_id = CASE WHEN $7 AND id = $8 THEN current_operation_id END,
                  status = CASE WHEN $7 AND id = $8 THEN 'error' ELSE status END, updated_at = now()
            WHERE $5 AND current_operation_id = $1 RETURNING id
         )
         SELECT (SELECT count(*) FROM finished) AS finished, (SELECT count(*) FROM released) AS released`,
        [
          operationId,
          progress.status,
          JSON.stringify(progress.steps),
          progress.error ? JSON.stringify(progress.error) : null,
          terminal,
          JSON.stringify(progress.children ?? []),
          progress.status === 'stuck',
          vmId,
        ],
      );
    }),
  };
}
