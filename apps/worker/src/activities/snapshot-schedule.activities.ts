import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import {
  operationWorkflowId,
  pendingSteps,
  type OperationType,
  type ScheduledLaunch,
  type SnapshotCreateInput,
  type SnapshotScheduleActivities,
} from '@vmops/contracts';
import {
  deleteQueuedSchedules,
  insertOperation,
  lockSettledVm,
  releaseVmLock,
  requestHash,
  type LockedVmRow,
  type Reservations,
} from '@vmops/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { OPERATIONS } from '@vmops/catalogue';

interface DefinitionRow {
  id: string;
  vm_id: string;
  disk_id: string;
  name: string;
  retention: number;
  active: boolean;
  fsfreeze: boolean;
  on_busy: 'skip' | 'retry';
  schedule_id: string;
}

/** `2026-11-30T20:45:12.345Z` → `20261130-204512`: a run's snapshots sort by name as by time. */
function stamp(iso: string): string {
  return iso.slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/**
 * A retried launch: its record never reached a workflow (the run starts it only once the call answered), so what
 * it wrote goes and it is made anew. Null when it can go on; a refusal when the record was settled meanwhile.
 */
async function undoEarlierAttempt(tx: EntityManager, operationId: string): Promise<{ refused: { code: string; message: string } } | null> {
  const [previous] = await tx.query(`SELECT vm_id, finished_at, reservations FROM operations WHERE id = $1 FOR UPDATE`, [operationId]);
  if (!previous) return null;
  if (previous.finished_at)
    return {
      refused: { code: 'LAUNCH_ABANDONED', message: `the operation's record was settled before it could start (operation ${operationId})` },
    };
  const r: Reservations = previous.reservations ?? {};
  await releaseVmLock(tx, previous.vm_id, operationId);
  await tx.query(`DELETE FROM operations WHERE id = $1`, [operationId]);
  if (r.pendingSnapshotIds?.length)
    await tx.query(`DELETE FROM snapshots WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [r.pendingSnapshotIds]);
  if (r.deletingSnapshotIds?.length)
    await tx.query(`UPDATE snapshots SET status = 'ok' WHERE id = ANY($1::uuid[]) AND status = 'deleting'`, [r.deletingSnapshotIds]);
  return null;
}

/** The definition, and its VM locked for `operationId`; or what the run should report instead. */
async function lockDefinitionVm(
  tx: EntityManager,
  definitionId: string,
  operationId: string,
): Promise<{ def: DefinitionRow; vm: LockedVmRow } | Exclude<ScheduledLaunch<never>, { started: unknown }>> {
  const refused = await undoEarlierAttempt(tx, operationId);
  if (refused) return refused;
  const [def]: DefinitionRow[] = await tx.query(`SELECT * FROM snapshot_definitions WHERE id = $1`, [definitionId]);
  if (!def) return { nothing: 'the snapshot definition was deleted' };
  if (!def.active) return { nothing: 'the snapshot definition is inactive' };
  const lock = await lockSettledVm(tx, def.vm_id, operationId);
  if ('gone' in lock) return { nothing: 'the VM was deleted' };
  if ('busy' in lock) return { busy: { ...lock.busy, onBusy: def.on_busy } };
  if ('unsettled' in lock)
    return { refused: { code: 'VM_INVALID_STATE', message: `${lock.unsettled.hostname} is ${lock.unsettled.status}` } };
  return { def, vm: lock.locked };
}

/** Records the operation as the API's launch would, pending, for the run to start as a child workflow. */
async function recordOperation(
  tx: EntityManager,
  op: {
    id: string;
    type: OperationType;
    vm: Pick<LockedVmRow, 'id' | 'tenantId' | 'hostname'>;
    request: Record<string, unknown>;
    steps: ReturnType<typeof pendingSteps>;
    reservations: Reservations;
  },
): Promise<string> {
  const workflowId = operationWorkflowId(op.type, op.vm.hostname, op.id);
  await insertOperation(tx, {
    id: op.id,
    tenantId: op.vm.tenantId,
    vmId: op.vm.id,
    type: op.type,
    workflowId,
    request: op.request,
    steps: op.steps,
    idempotencyKey: null,
    requestHash: requestHash(op.type, op.request),
    deadlineSeconds: OPERATIONS[op.type].deadlineSeconds,
    reservations: op.reservations,
    requestedByTenantId: null,
  });
  return workflowId;
}

/** A scheduled run's launches (see SnapshotScheduleActivities); `snapshotLimitPerVm` as the API counts it. */
export function createSnapshotScheduleActivities(
  dataSource: DataSource,
  options: { snapshotLimitPerVm: number },
): SnapshotScheduleActivities {
  return {
    async launchScheduledSnapshot({ definitionId, scheduleId, operationId, takenAt }) {
      const launched = await dataSource.transaction(async (tx): Promise<ScheduledLaunch<SnapshotCreateInput>> => {
        const found = await lockDefinitionVm(tx, definitionId, operationId);
        if (!('def' in found)) return found;
        const { def, vm } = found;
        const release = () => releaseVmLock(tx, vm.id, operationId);
        const [{ count }] = await tx.query(`SELECT count(*)::int AS count FROM snapshots WHERE vm_id = $1`, [vm.id]);
        if (count >= options.snapshotLimitPerVm) {
          await release();
          return {
            refused: {
              code: 'SNAPSHOT_LIMIT_REACHED',
              message: `${vm.hostname} has ${count} snapshots, the most a VM may have (${options.snapshotLimitPerVm})`,
            },
          };
        }
        let name = `${def.name}-${stamp(takenAt)}`;
        if ((await tx.query(`SELECT 1 FROM snapshots WHERE disk_id = $1 AND name = $2`, [def.disk_id, name])).length)
          name = `${name}-${operationId.slice(0, 4)}`;
        const [disk] = await tx.query(`SELECT size_gb FROM disks WHERE id = $1`, [def.disk_id]);
        // The snapshot's id is the operation's: a retried launch finds (and drops) the record it wrote.
        await tx.query(
          `INSERT INTO snapshots (id, tenant_id, vm_id, disk_id, name, type, note, status, size_mb, definition_id) VALUES ($1, $2, $3, $4, $5, 'automatic', NULL, 'pending', $6, $7)`,
          [operationId, vm.tenantId, vm.id, def.disk_id, name, disk.size_gb * 1024, def.id],
        );
        const input = {
          operationId,
          vmId: vm.id,
          hostname: vm.hostname,
          nodeId: vm.nodeId,
          snapshotId: operationId,
          diskId: def.disk_id,
          name,
          fsfreeze: def.fsfreeze,
        };
        const workflowId = await recordOperation(tx, {
          id: operationId,
          type: 'snapshot.create',
          vm,
          request: { vmId: vm.id, name, diskId: def.disk_id, note: null, fsfreeze: def.fsfreeze, definitionId: def.id },
          steps: pendingSteps(OPERATIONS['snapshot.create'].plan(input)),
          reservations: { pendingSnapshotIds: [operationId] },
        });
        return { started: { workflowId, tenantId: vm.tenantId, input } };
      });
      // A run whose definition is gone takes its schedule with it (the API deletes it too; this covers a lost delete).
      if ('nothing' in launched && !(await dataSource.query(`SELECT 1 FROM snapshot_definitions WHERE id = $1`, [definitionId])).length) {
        const client = Context.current().client;
        await dataSource.query(
          `INSERT INTO snapshot_schedules_to_delete (schedule_id, definition_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [scheduleId, definitionId],
        );
        await deleteQueuedSchedules(
          dataSource,
          (id) =>
            client.schedule
              .getHandle(id)
              .delete()
              .catch((err) => {
                if (!(err instanceof ScheduleNotFoundError)) throw err;
              }),
          [scheduleId],
        );
      }
      return launched;
    },

    launchSnapshotPruning: ({ definitionId, operationId }) =>
      dataSource.transaction(async (tx) => {
        const found = await lockDefinitionVm(tx, definitionId, operationId);
        if (!('def' in found)) return found;
        const { def, vm } = found;
        const beyond: { id: string; name: string }[] = await tx.query(
          `SELECT id, name FROM snapshots WHERE definition_id = $1 AND type = 'automatic' AND status = 'ok'
            ORDER BY created_at DESC, name DESC OFFSET $2`,
          [def.id, def.retention],
        );
        if (!beyond.length) {
          await releaseVmLock(tx, vm.id, operationId);
          return { nothing: `${def.name} keeps ${def.retention} snapshot(s); none is beyond it` };
        }
        const oldestFirst = beyond.reverse();
        const ids = oldestFirst.map((s) => s.id);
        await tx.query(`UPDATE snapshots SET status = 'deleting' WHERE id = ANY($1::uuid[])`, [ids]);
        const input = {
          operationId,
          vmId: vm.id,
          hostname: vm.hostname,
          nodeId: vm.nodeId,
          snapshots: oldestFirst.map((s) => ({ snapshotId: s.id, name: s.name })),
        };
        const workflowId = await recordOperation(tx, {
          id: operationId,
          type: 'snapshot.delete',
          vm,
          request: {
            vmId: vm.id,
            names: oldestFirst.map((s) => s.name),
            diskId: def.disk_id,
            definitionId: def.id,
            retention: def.retention,
          },
          steps: pendingSteps(OPERATIONS['snapshot.delete'].plan(input)),
          reservations: { deletingSnapshotIds: ids },
        });
        return { started: { workflowId, tenantId: vm.tenantId, input } };
      }),
  };
}
