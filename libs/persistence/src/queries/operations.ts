import type { OperationError } from '@vmops/contracts';
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { releaseVmLock } from './vm-lock';

/**
 * What an operation's launch wrote to the inventory before its workflow started, beyond taking the VM's lock.
 * Recorded with the operation, so that an operation whose workflow never started can give all of it back,
 * whoever finds it so: the API when the start fails or the operation is cancelled, the reconciler otherwise.
 */
export interface Reservations {
  /** The VM itself was recorded by this operation (vm.create): its record, disks and interfaces go. */
  vmRecord?: boolean;
  /** Disk records written up front (disk.create) to hold their storage. */
  diskIds?: string[];
  /** Template records written `creating` (template.create): they go. */
  templateIds?: string[];
  /** A template marked `deleting` (template.delete): it is `ready` again. */
  deletingTemplateId?: string;
  /** Interface records written detached up front (nic.create) to hold their MAC. */
  nicIds?: string[];
  /** Interfaces no VM owned, recorded as the VM's by nic.attach: nobody's again. */
  claimedNicIds?: string[];
  /** Snapshot records written `pending` (snapshot.create). */
  pendingSnapshotIds?: string[];
  /** Snapshots marked `deleting` (snapshot.delete, in-place rollback): they are `ok` again. */
  deletingSnapshotIds?: string[];
  /** The lock was taken over from this (stuck) operation (vm.reset): it goes back to it. */
  lockTakenFrom?: string;
  /**
   * vm.migrate: the VM counts on both nodes while the operation holds it (see nodeUsage); releasing the lock
   * gives the room back, so there is nothing else to undo.
   */
  migration?: { sourceNodeId: string; targetNodeId: string };
  /** node.drain: the node was put in maintenance by the launch; it goes back to this status. */
  drainedNode?: { nodeId: string; previousStatus: string };
}

/**
 * A VM's record goes, with the records of its disks (and their snapshots) and of its first interface. The disks
 * in `keepDiskIds` and the other interfaces stay, detached and no longer any VM's (Gandi's vm.delete).
 */
export async function deleteVmRecords(tx: EntityManager, vmId: string, keepDiskIds: string[] = []): Promise<void> {
  await tx.query(`UPDATE disks SET vm_id = NULL, position = NULL WHERE id = ANY($1::uuid[])`, [keepDiskIds]);
  await tx.query(`UPDATE network_interfaces SET vm_id = NULL, position = NULL WHERE vm_id = $1 AND position > 0`, [vmId]);
  await tx.query(`DELETE FROM snapshots WHERE disk_id IN (SELECT id FROM disks WHERE vm_id = $1)`, [vmId]);
  await tx.query(`UPDATE snapshots SET vm_id = NULL WHERE vm_id = $1`, [vmId]);
  await tx.query(`DELETE FROM disks WHERE vm_id = $1`, [vmId]);
  await tx.query(`DELETE FROM network_interfaces WHERE vm_id = $1`, [vmId]);
  await tx.query(`DELETE FROM vms WHERE id = $1`, [vmId]);
}

/** Frees every VM `operationId` holds but `vmId` (its own): a clone's source, when the clone's operation ends. */
export async function releaseOtherVms(tx: EntityManager, operationId: string, vmId: string | null): Promise<void> {
  await tx.query(
    `UPDATE vms SET current_operation_id = NULL, updated_at = now() WHERE current_operation_id = $1 AND id IS DISTINCT FROM $2`,
    [operationId, vmId],
  );
}

/** Gives back everything the launch of an operation that never ran reserved, and the VM's lock. Idempotent. */
async function releaseReservations(tx: EntityManager, op: { id: string; vmId: string | null; reservations: Reservations }): Promise<void> {
  const r = op.reservations;
  await releaseOtherVms(tx, op.id, op.vmId);
  if (r.drainedNode)
    await tx.query(`UPDATE nodes SET status = $2 WHERE id = $1 AND status = 'maintenance'`, [
      r.drainedNode.nodeId,
      r.drainedNode.previousStatus,
    ]);
  if (r.pendingSnapshotIds?.length)
    await tx.query(`DELETE FROM snapshots WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [r.pendingSnapshotIds]);
  if (r.deletingSnapshotIds?.length) {
    await tx.query(`UPDATE snapshots SET status = 'ok' WHERE id = ANY($1::uuid[]) AND status = 'deleting'`, [r.deletingSnapshotIds]);
  }
  if (r.diskIds?.length) await tx.query(`DELETE FROM disks WHERE id = ANY($1::uuid[]) AND position IS NULL`, [r.diskIds]);
  if (r.templateIds?.length) await tx.query(`DELETE FROM templates WHERE id = ANY($1::uuid[]) AND status = 'creating'`, [r.templateIds]);
  if (r.deletingTemplateId)
    await tx.query(`UPDATE templates SET status = 'ready' WHERE id = $1 AND status = 'deleting'`, [r.deletingTemplateId]);
  if (r.nicIds?.length) await tx.query(`DELETE FROM network_interfaces WHERE id = ANY($1::uuid[]) AND position IS NULL`, [r.nicIds]);
  if (r.claimedNicIds?.length)
    await tx.query(`UPDATE network_interfaces SET vm_id = NULL WHERE id = ANY($1::uuid[]) AND position IS NULL`, [r.claimedNicIds]);
  if (!op.vmId) return;
  if (r.vmRecord) {
    // Only a VM this operation still holds, so only the one it recorded.
    const [held] = await tx.query(`SELECT 1 FROM vms WHERE id = $1 AND current_operation_id = $2`, [op.vmId, op.id]);
    if (held) await deleteVmRecords(tx, op.vmId);
    return;
  }
  await releaseVmLock(tx, op.vmId, op.id, r.lockTakenFrom ?? null);
}

export interface AbandonedOperation {
  id: string;
  vmId: string | null;
  type: string;
  /** Why: the error code it was settled with. */
  code: string;
}

/**
 * Fails an unfinished operation whose workflow will never finish it, and frees its VM. With `neverStarted`,
 * also gives back what its launch reserved (nothing of it was used) and its Idempotency-Key, so that the
 * client's retry with that key — the answer it got was an error, or none — starts the operation anew; a
 * workflow that did start and then ended
 * (terminated, timed out) may have changed the VM, so its records stay as they are for a human or a reset.
 *
 * `neverStarted` settles only a pending operation: one its workflow has marked running did start (a start that
 * timed out at the client may still have reached Temporal), and it is that workflow's to finish. The two
 * conditional updates (this one, markOperationRunning's) serialize on the row, so exactly one of them wins.
 * Returns the operation if this call settled it, null if it had finished already or (neverStarted) was running.
 */
export function abandonOperation(
  dataSource: DataSource,
  operationId: string,
  error: OperationError,
  options: { neverStarted: boolean; status?: 'failed' | 'cancelled' },
): Promise<AbandonedOperation | null> {
  return dataSource.transaction(async (tx) => {
    const [rows] = await tx.query(
      `UPDATE operations SET status = $3, error = $2::jsonb, finished_at = now(), updated_at = now(),
              idempotency_key = CASE WHEN $4 THEN NULL ELSE idempotency_key END
        WHERE id = $1 AND finished_at IS NULL AND (NOT $4 OR status = 'pending')
        RETURNING id, vm_id, type, reservations`,
      [operationId, JSON.stringify(error), options.status ?? 'failed', options.neverStarted],
    );
    const op = rows[0];
    if (!op) return null;
    if (options.neverStarted) await releaseReservations(tx, { id: op.id, vmId: op.vm_id, reservations: op.reservations });
    else {
      await releaseOtherVms(tx, op.id, op.vm_id);
      if (op.vm_id) await releaseVmLock(tx, op.vm_id, op.id);
    }
    return { id: op.id, vmId: op.vm_id, type: op.type, code: error.code };
  });
}

/**
 * Reads a workflow's execution status name (RUNNING, COMPLETED, TERMINATED, …), null when the server has no such
 * workflow; throws when it cannot tell. Each process passes its own Temporal client's describe.
 */
export type DescribeWorkflow = (workflowId: string) => Promise<string | null>;

/**
 * An operation whose workflow is not found this long after it was recorded was never started: the launch that
 * recorded it died. A launch whose start Temporal did not answer in time goes on sending it in the background until
 * shortly before this (then settles the operation itself), so this leaves a burst's slow starts room to land. A
 * workflow that starts late finds its operation settled and does nothing (markOperationRunning).
 */
export const NEVER_STARTED_AFTER_MS = 30_000;

/**
 * Settles an unfinished operation that can no longer finish on its own: its workflow ended without recording
 * the end (terminated, timed out) or never started. Returns it if this call settled it; null while its workflow
 * runs, when it is too young to tell, when Temporal cannot be asked, or when it had finished already.
 */
export async function settleIfStale(
  dataSource: DataSource,
  describe: DescribeWorkflow,
  operationId: string,
  now = Date.now(),
): Promise<AbandonedOperation | null> {
  const [op] = await dataSource.query(`SELECT workflow_id, created_at, status FROM operations WHERE id = $1 AND finished_at IS NULL`, [
    operationId,
  ]);
  if (!op) return null;
  let status: string | null;
  try {
    status = await describe(op.workflow_id);
  } catch {
    return null;
  }
  if (status === 'RUNNING') return null;
  // Marked running, so its workflow did start, and it is not there any more (its history purged, the server's
  // data lost): it ended without finishing the operation, as below.
  if (status === null && op.status !== 'pending') status = 'GONE';
  if (status === null) {
    if (now - new Date(op.created_at).getTime() < NEVER_STARTED_AFTER_MS) return null;
    return abandonOperation(
      dataSource,
      operationId,
      { code: 'NEVER_STARTED', message: 'the operation was recorded but its workflow never started; nothing was changed', step: null },
      { neverStarted: true },
    );
  }
  const ended = status.toLowerCase().replace(/_/g, ' ');
  return abandonOperation(
    dataSource,
    operationId,
    {
      code: 'WORKFLOW_ENDED',
      message: `the workflow ended (${ended}) before the operation finished; the VM's recorded state may be stale`,
      step: null,
    },
    { neverStarted: false },
  );
}

/** Whether the operation is still pending: recorded, and neither taken over by its workflow nor settled. */
export async function isOperationPending(dataSource: DataSource, operationId: string): Promise<boolean> {
  const rows = await dataSource.query(`SELECT 1 FROM operations WHERE id = $1 AND status = 'pending'`, [operationId]);
  return rows.length > 0;
}

/** An operation as its launch records it, pending until its workflow marks it running. */
export interface NewOperation {
  id: string;
  tenantId: string;
  vmId: string | null;
  type: string;
  workflowId: string;
  request: unknown;
  steps: unknown;
  idempotencyKey: string | null;
  requestHash: string;
  deadlineSeconds: number;
  reservations: Reservations;
  /** The tenant whose key asked for it, when it is not `tenantId` (an operator acting on a tenant's VM). */
  requestedByTenantId: string | null;
}

/** Records an operation; the one INSERT of every launch (the API's, and a drain's for each of its migrations). */
export async function insertOperation(tx: EntityManager, op: NewOperation): Promise<void> {
  await tx.query(
    `INSERT INTO operations (id, tenant_id, vm_id, type, status, workflow_id, request, steps, idempotency_key, request_hash, deadline_at, reservations,
                             requested_by_tenant_id)
     VALUES ($1, $2, $3, $4, 'pending', $5, $6::jsonb, $7::jsonb, $8, $9, now() + make_interval(secs => $10), $11::jsonb, $12)`,
    [
      op.id,
      op.tenantId,
      op.vmId,
      op.type,
      op.workflowId,
      JSON.stringify(op.request),
      JSON.stringify(op.steps),
      op.idempotencyKey,
      op.requestHash,
      op.deadlineSeconds,
      JSON.stringify(op.reservations),
      op.requestedByTenantId,
    ],
  );
}

/** The hash an Idempotency-Key is checked against: of the type and the request, its keys in a canonical order. */
export function requestHash(type: string, request: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify({ type, request: canonical(request) }))
    .digest('hex');
}
