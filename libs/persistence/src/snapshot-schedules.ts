import type { DataSource, EntityManager } from 'typeorm';

/** Deletes one Temporal Schedule; resolves when it is gone, or was already. Each process passes its own client's. */
export type DeleteSchedule = (scheduleId: string) => Promise<void>;

/**
 * Deletes the Temporal Schedules of deleted snapshot definitions (queued by the definition's delete trigger), each
 * dequeued once it is gone. `scheduleIds`: only these. Returns how many went; a failure leaves the rest queued.
 */
export async function deleteQueuedSchedules(
  dataSource: DataSource,
  deleteSchedule: DeleteSchedule,
  scheduleIds?: string[],
): Promise<number> {
  const queued: { schedule_id: string }[] = scheduleIds
    ? await dataSource.query(`SELECT schedule_id FROM snapshot_schedules_to_delete WHERE schedule_id = ANY($1::text[])`, [scheduleIds])
    : await dataSource.query(`SELECT schedule_id FROM snapshot_schedules_to_delete ORDER BY queued_at LIMIT 500`);
  let deleted = 0;
  for (const { schedule_id } of queued) {
    await deleteSchedule(schedule_id);
    await dataSource.query(`DELETE FROM snapshot_schedules_to_delete WHERE schedule_id = $1`, [schedule_id]);
    deleted++;
  }
  return deleted;
}

export type VmLockOutcome<V> =
  { locked: V } | { busy: { operationId: string; type: string } } | { unsettled: { hostname: string; status: string } } | { gone: true };

/**
 * Takes a settled (running or stopped) VM for `operationId` in the caller's transaction, as the API's lock does
 * (one conditional update on its row), for launches that run outside the API (a scheduled run's operations).
 */
export async function lockSettledVm(
  tx: EntityManager,
  vmId: string,
  operationId: string,
): Promise<VmLockOutcome<{ id: string; tenant_id: string; hostname: string; node_id: string }>> {
  const [rows] = await tx.query(
    `UPDATE vms SET current_operation_id = $2, updated_at = now()
      WHERE id = $1 AND current_operation_id IS NULL AND status IN ('running', 'stopped')
      RETURNING id, tenant_id, hostname, node_id`,
    [vmId, operationId],
  );
  if (rows[0]) return { locked: rows[0] };
  const [now] = await tx.query(
    `SELECT v.hostname, v.status, v.current_operation_id, o.type FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id WHERE v.id = $1`,
    [vmId],
  );
  if (!now) return { gone: true };
  if (now.current_operation_id) return { busy: { operationId: now.current_operation_id, type: now.type } };
  return { unsettled: { hostname: now.hostname, status: now.status } };
}
