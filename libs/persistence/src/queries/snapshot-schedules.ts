import type { DataSource, EntityManager } from 'typeorm';
import { takeVmLock, vmLockHolder, type LockedVmRow } from './vm-lock';

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
 * (takeVmLock), for launches that run outside the API (a scheduled run's operations).
 */
export async function lockSettledVm(tx: EntityManager, vmId: string, operationId: string): Promise<VmLockOutcome<LockedVmRow>> {
  const locked = await takeVmLock(tx, vmId, operationId, { settledOnly: true });
  if (locked) return { locked };
  const holder = await vmLockHolder(tx, vmId);
  if (!holder) return { gone: true };
  if (holder.operation) return { busy: { operationId: holder.operation.id, type: holder.operation.type } };
  return { unsettled: { hostname: holder.hostname, status: holder.status } };
}
