import { OPERATIONS } from '@vmops/catalogue';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@vmops/config';
import type {
  DiskRollbackInput,
  SnapshotCreateInput,
  SnapshotDeleteInput,
  SnapshotRollbackInput,
  VmOperationInput,
} from '@vmops/contracts';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput, type LockedVm } from '../operations/vm-lock.service';
import { assertPowerState, defaultStopTimeout } from '../vms/vms.service';
import type { CreateSnapshotDto, ListSnapshotsQuery, RollbackSnapshotDto } from './snapshot.dto';

export interface SnapshotView {
  id: string;
  name: string;
  vmId: string | null;
  diskId: string;
  type: string;
  note: string | null;
  status: string;
  sizeMb: number | null;
  definitionId: string | null;
  createdAt: string;
}

interface SnapshotRow {
  id: string;
  name: string;
  vm_id: string | null;
  disk_id: string;
  type: string;
  note: string | null;
  status: string;
  size_mb: number | null;
  definition_id: string | null;
  created_at: Date;
}

function toView(r: SnapshotRow): SnapshotView {
  return {
    id: r.id,
    name: r.name,
    vmId: r.vm_id,
    diskId: r.disk_id,
    type: r.type,
    note: r.note,
    status: r.status,
    sizeMb: r.size_mb,
    definitionId: r.definition_id,
    createdAt: r.created_at.toISOString(),
  };
}

const ORDER: Record<string, string> = {
  name: 's.name ASC',
  '-name': 's.name DESC',
  disk: 'd.position ASC NULLS LAST, s.name ASC',
  '-disk': 'd.position DESC NULLS LAST, s.name ASC',
  size: 's.size_mb ASC NULLS FIRST, s.name ASC',
  '-size': 's.size_mb DESC NULLS LAST, s.name ASC',
  created: 's.created_at ASC, s.name ASC',
  '-created': 's.created_at DESC, s.name DESC',
};

/**
 * Snapshots of a VM's disks (Erigones semantics): create, list, read, annotate, delete, sync with the node,
 * and the two rollbacks. Every change is an operation that locks the VM it changes.
 */
@Injectable()
export class SnapshotsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  async list(
    principal: Principal,
    vmId: string,
    q: ListSnapshotsQuery,
  ): Promise<{ items: SnapshotView[]; total: number; limit: number; offset: number }> {
    await this.vmOf(this.dataSource.manager, principal, vmId);
    if (q.diskId) await this.diskOf(this.dataSource.manager, vmId, q.diskId);
    const where = `s.vm_id = $1 AND ($2::uuid IS NULL OR s.disk_id = $2) AND ($3::text IS NULL OR s.type = $3) AND ($4::uuid IS NULL OR s.definition_id = $4)`;
    const params = [vmId, q.diskId ?? null, q.type ?? null, q.definition ?? null];
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT s.* FROM snapshots s JOIN disks d ON d.id = s.disk_id WHERE ${where} ORDER BY ${ORDER[q.orderBy]} LIMIT $5 OFFSET $6`,
        [...params, q.limit, q.offset],
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM snapshots s WHERE ${where}`, params),
    ]);
    return { items: rows.map(toView), total, limit: q.limit, offset: q.offset };
  }

  async get(principal: Principal, vmId: string, name: string, diskId?: string): Promise<SnapshotView> {
    const m = this.dataSource.manager;
    await this.vmOf(m, principal, vmId);
    return toView(await this.snapshotOf(m, vmId, (await this.diskOf(m, vmId, diskId)).id, name));
  }

  async updateNote(principal: Principal, vmId: string, name: string, diskId: string | undefined, note: string): Promise<SnapshotView> {
    const m = this.dataSource.manager;
    await this.vmOf(m, principal, vmId);
    const snap = await this.snapshotOf(m, vmId, (await this.diskOf(m, vmId, diskId)).id, name);
    const [[row]] = await m.query(`UPDATE snapshots SET note = $2 WHERE id = $1 RETURNING *`, [snap.id, note]);
    return toView(row);
  }

  create(principal: Principal, vmId: string, dto: CreateSnapshotDto, options: MutationOptions): Promise<LaunchResult> {
    const fsfreeze = dto.fsfreeze ?? false;
    return this.operations.launch<SnapshotCreateInput>(
      {
        principal,
        operation: OPERATIONS['snapshot.create'],
        request: { vmId, name: dto.name, diskId: dto.diskId ?? null, note: dto.note ?? null, fsfreeze },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'snapshot');
          const disk = await this.diskOf(tx, vmId, dto.diskId);
          const [{ count }] = await tx.query(`SELECT count(*)::int AS count FROM snapshots WHERE vm_id = $1`, [vmId]);
          if (count >= this.config.snapshotLimitPerVm) {
            throw new ApiError(
              'SNAPSHOT_LIMIT_REACHED',
              `${vm.hostname} has ${count} snapshots, the most a VM may have; delete some first`,
              {
                limit: this.config.snapshotLimitPerVm,
              },
            );
          }
          if ((await tx.query(`SELECT 1 FROM snapshots WHERE disk_id = $1 AND name = $2`, [disk.id, dto.name])).length) {
            throw new ApiError('NAME_TAKEN', `disk ${disk.id} of ${vm.hostname} already has a snapshot named ${dto.name}`, {
              name: dto.name,
            });
          }
          const snapshotId = randomUUID();
          // Recorded pending at once, so the name and the limit hold against concurrent requests for other VMs' disks too.
          await tx.query(
            `INSERT INTO snapshots (id, tenant_id, vm_id, disk_id, name, type, note, status, size_mb) VALUES ($1, $2, $3, $4, $5, 'manual', $6, 'pending', $7)`,
            [snapshotId, principal.tenantId, vmId, disk.id, dto.name, dto.note ?? null, disk.size_gb * 1024],
          );
          return {
            vm,
            input: { ...vmOperationInput(operationId, vm), snapshotId, diskId: disk.id, name: dto.name, fsfreeze },
            reservations: { pendingSnapshotIds: [snapshotId] },
          };
        },
      },
      options,
    );
  }

  /**
   * Deletes `names` on one disk. A missing name is 404 when the path named the snapshot (as GET answers for
   * it), 412 on the `names` parameter when a list did.
   */
  delete(
    principal: Principal,
    vmId: string,
    names: string[],
    diskId: string | undefined,
    options: MutationOptions,
    namedBy: 'path' | 'list' = 'list',
  ): Promise<LaunchResult> {
    const unique = [...new Set(names)];
    return this.operations.launch<SnapshotDeleteInput>(
      {
        principal,
        operation: OPERATIONS['snapshot.delete'],
        request: { vmId, names: unique, diskId: diskId ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'delete snapshots of');
          const disk = await this.diskOf(tx, vmId, diskId);
          const rows: SnapshotRow[] = await tx.query(`SELECT * FROM snapshots WHERE disk_id = $1 AND name = ANY($2)`, [disk.id, unique]);
          const missing = unique.filter((n) => !rows.some((r) => r.name === n));
          if (missing.length && namedBy === 'path') await this.snapshotOf(tx, vmId, disk.id, missing[0]);
          if (missing.length)
            throw invalidParameter('names', `disk ${disk.id} of ${vm.hostname} has no snapshot named ${missing.join(', ')}`);
          const notOk = rows.filter((r) => r.status !== 'ok');
          if (notOk.length) {
            throw new ApiError('SNAPSHOT_NOT_OK', `snapshot ${notOk.map((r) => `${r.name} is ${r.status}`).join(', ')}`, {
              names: notOk.map((r) => r.name),
            });
          }
          const marked = rows.map((r) => r.id);
          await tx.query(`UPDATE snapshots SET status = 'deleting' WHERE id = ANY($1::uuid[])`, [marked]);
          const ordered = unique.map((n) => rows.find((r) => r.name === n)!);
          return {
            vm,
            input: { ...vmOperationInput(operationId, vm), snapshots: ordered.map((r) => ({ snapshotId: r.id, name: r.name })) },
            reservations: { deletingSnapshotIds: marked },
          };
        },
      },
      options,
    );
  }

  sync(principal: Principal, vmId: string, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch<VmOperationInput>(
      {
        principal,
        operation: OPERATIONS['snapshot.sync'],
        request: { vmId },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'sync snapshots of');
          return { vm, input: vmOperationInput(operationId, vm) };
        },
      },
      options,
    );
  }

  rollback(principal: Principal, vmId: string, name: string, dto: RollbackSnapshotDto, options: MutationOptions): Promise<LaunchResult> {
    if (dto.method === 'new_disk') {
      for (const field of ['targetVmId', 'targetDiskId', 'force', 'stopFirst'] as const) {
        if (dto[field] !== undefined)
          throw invalidParameter(field, `${field} applies to in_place rollbacks only; new_disk stops and restarts a running VM itself`);
      }
      return this.rollbackToNewDisk(principal, vmId, name, dto, options);
    }
    if (dto.targetDiskId && !dto.targetVmId) throw invalidParameter('targetDiskId', 'targetDiskId needs targetVmId');
    if (dto.targetVmId && !dto.targetDiskId)
      throw invalidParameter('targetDiskId', 'restoring into another VM needs targetDiskId, the disk to restore into');
    return this.rollbackInPlace(principal, vmId, name, dto, options);
  }

  private rollbackToNewDisk(
    principal: Principal,
    vmId: string,
    name: string,
    dto: RollbackSnapshotDto,
    options: MutationOptions,
  ): Promise<LaunchResult> {
    return this.operations.launch<DiskRollbackInput>(
      {
        principal,
        operation: OPERATIONS['disk.rollback'],
        request: { vmId, snapshot: name, method: dto.method, diskId: dto.diskId ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'roll back');
          const disk = await this.diskOf(tx, vmId, dto.diskId);
          const snap = await this.okSnapshot(tx, vmId, disk.id, name);
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              snapshotId: snap.id,
              snapshotName: snap.name,
              oldDiskId: disk.id,
              newDiskId: randomUUID(),
              position: disk.position ?? 0,
              sizeGb: disk.size_gb,
              wasRunning: vm.status === 'running',
              stopTimeoutSeconds: defaultStopTimeout(vm),
            },
          };
        },
      },
      options,
    );
  }

  private rollbackInPlace(
    principal: Principal,
    vmId: string,
    name: string,
    dto: RollbackSnapshotDto,
    options: MutationOptions,
  ): Promise<LaunchResult> {
    const targetVmId = dto.targetVmId ?? vmId;
    return this.operations.launch<SnapshotRollbackInput>(
      {
        principal,
        operation: OPERATIONS['snapshot.rollback'],
        request: {
          vmId,
          snapshot: name,
          method: dto.method,
          diskId: dto.diskId ?? null,
          force: dto.force ?? false,
          stopFirst: dto.stopFirst ?? false,
          targetVmId: dto.targetVmId ?? null,
          targetDiskId: dto.targetDiskId ?? null,
        },
        prepare: async (tx, operationId) => {
          const source = await this.vmOf(tx, principal, vmId);
          const sourceDisk = await this.diskOf(tx, vmId, dto.diskId);
          const snap = await this.okSnapshot(tx, vmId, sourceDisk.id, name);
          // The VM whose disk is overwritten is the one the operation changes and locks.
          const vm = await this.locks.acquire(tx, principal.tenantId, targetVmId, operationId);
          const targetDisk = dto.targetDiskId ? await this.diskOf(tx, targetVmId, dto.targetDiskId) : sourceDisk;
          if (targetVmId !== vmId) this.assertRestorable(source, sourceDisk, vm, targetDisk);

          const discarded: SnapshotRow[] =
            targetVmId === vmId
              ? await tx.query(
                  // Compared in SQL: a JS Date would drop the microseconds and count the snapshot as newer than itself.
                  `SELECT * FROM snapshots WHERE disk_id = $1 AND id <> $2 AND created_at > (SELECT created_at FROM snapshots WHERE id = $2) ORDER BY created_at`,
                  [sourceDisk.id, snap.id],
                )
              : await tx.query(`SELECT * FROM snapshots WHERE disk_id = $1 ORDER BY created_at`, [targetDisk.id]);
          if (discarded.length && !dto.force) {
            const names = discarded.map((s) => s.name);
            throw targetVmId === vmId
              ? new ApiError(
                  'NEWER_SNAPSHOTS',
                  `snapshot ${name} has newer snapshots (${names.join(', ')}); a rollback destroys them: pass force to go on`,
                  { snapshots: names },
                )
              : new ApiError(
                  'TARGET_HAS_SNAPSHOTS',
                  `the target disk has snapshots (${names.join(', ')}); a restore destroys them: pass force to go on`,
                  { snapshots: names },
                );
          }
          if (vm.status === 'running' && !dto.stopFirst) {
            throw new ApiError('VM_INVALID_STATE', `${vm.hostname} is running; stop it first or pass stopFirst`, {
              status: vm.status,
              required: 'stopped',
            });
          }
          if (vm.status !== 'running') assertPowerState(vm, 'roll back', 'stopped');
          await tx.query(`UPDATE snapshots SET status = 'deleting' WHERE id = ANY($1::uuid[])`, [discarded.map((s) => s.id)]);
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              snapshotId: snap.id,
              snapshotName: snap.name,
              targetDiskId: targetDisk.id,
              discarded: discarded.map((s) => ({ snapshotId: s.id, name: s.name })),
              stopFirst: vm.status === 'running',
              stopTimeoutSeconds: defaultStopTimeout(vm),
            },
            reservations: { deletingSnapshotIds: discarded.map((s) => s.id) },
          };
        },
      },
      options,
    );
  }

  /** Erigones' 428s: a snapshot restores into another VM only on the same node, into a disk of its size and kind. */
  private assertRestorable(source: { node_id: string }, sourceDisk: DiskRow, target: LockedVm, targetDisk: DiskRow): void {
    const mismatch = (
      code: 'NODE_MISMATCH' | 'DISK_SIZE_MISMATCH' | 'DISK_KIND_MISMATCH',
      message: string,
      details: Record<string, unknown>,
    ) => new ApiError(code, message, details);
    if (target.nodeId !== source.node_id) {
      throw mismatch('NODE_MISMATCH', `${target.hostname} is on another node; a snapshot restores only into a VM on its own node`, {
        targetNodeId: target.nodeId,
      });
    }
    if (targetDisk.size_gb !== sourceDisk.size_gb) {
      throw mismatch(
        'DISK_SIZE_MISMATCH',
        `the target disk is ${targetDisk.size_gb} GB and the snapshot's disk ${sourceDisk.size_gb} GB; they must match`,
        {
          targetSizeGb: targetDisk.size_gb,
          sourceSizeGb: sourceDisk.size_gb,
        },
      );
    }
    if ((targetDisk.position === 0) !== (sourceDisk.position === 0)) {
      throw mismatch('DISK_KIND_MISMATCH', 'a system disk restores only into a system disk, a data disk only into a data disk', {
        targetPosition: targetDisk.position,
        sourcePosition: sourceDisk.position,
      });
    }
  }

  private async vmOf(m: EntityManager, principal: Principal, vmId: string): Promise<{ id: string; hostname: string; node_id: string }> {
    const [vm] = await m.query(`SELECT id, hostname, node_id FROM vms WHERE id = $1 AND tenant_id = $2`, [vmId, principal.tenantId]);
    if (!vm) throw notFound('VM', vmId);
    return vm;
  }

  /** The VM's disk `diskId`, or its system disk; 412 when the VM has no such disk (Erigones: invalid disk_id). */
  private async diskOf(m: EntityManager, vmId: string, diskId?: string): Promise<DiskRow> {
    const [disk] = diskId
      ? await m.query(`SELECT id, size_gb, position FROM disks WHERE id = $1 AND vm_id = $2`, [diskId, vmId])
      : await m.query(`SELECT id, size_gb, position FROM disks WHERE vm_id = $1 AND position = 0`, [vmId]);
    if (!disk) throw invalidParameter('diskId', diskId ? `VM ${vmId} has no disk ${diskId}` : `VM ${vmId} has no system disk`);
    return disk;
  }

  private async snapshotOf(m: EntityManager, vmId: string, diskId: string, name: string): Promise<SnapshotRow> {
    const [snap] = await m.query(`SELECT * FROM snapshots WHERE disk_id = $1 AND name = $2 AND vm_id = $3`, [diskId, name, vmId]);
    if (!snap) throw new ApiError('NOT_FOUND', `disk ${diskId} of VM ${vmId} has no snapshot named ${name}`, { name, diskId });
    return snap;
  }

  private async okSnapshot(m: EntityManager, vmId: string, diskId: string, name: string): Promise<SnapshotRow> {
    const snap = await this.snapshotOf(m, vmId, diskId, name);
    if (snap.status !== 'ok') {
      throw new ApiError('SNAPSHOT_NOT_OK', `snapshot ${name} is ${snap.status}`, { status: snap.status });
    }
    return snap;
  }
}

interface DiskRow {
  id: string;
  size_gb: number;
  position: number | null;
}
