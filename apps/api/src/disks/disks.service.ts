import { OPERATIONS, type OperationEntry } from '@vmops/catalogue';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DiskAttachInput, DiskChangeInput, DiskCreateInput } from '@vmops/contracts';
import { randomUUID } from 'node:crypto';
import { diskOfVm, insertDetachedDisk, lockNodeUsage, type DiskRecord } from '@vmops/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput, type LockedVm } from '../operations/vm-lock.service';

/** Positions 0 (system disk) to 15. */
export const MAX_DISK_POSITION = 15;

export interface DiskView {
  id: string;
  vmId: string | null;
  nodeId: string;
  /** Null when detached. */
  position: number | null;
  sizeGb: number;
  templateId: string | null;
  createdAt: string;
}

interface DiskRow {
  id: string;
  tenant_id: string;
  vm_id: string | null;
  node_id: string;
  position: number | null;
  size_gb: number;
  template_id: string | null;
  created_at: Date;
}

const toView = (d: DiskRow): DiskView => ({
  id: d.id,
  vmId: d.vm_id,
  nodeId: d.node_id,
  position: d.position,
  sizeGb: d.size_gb,
  templateId: d.template_id,
  createdAt: d.created_at.toISOString(),
});

/**
 * A VM's disks (Gandi semantics): created blank and attached, attached at a position (0 swaps with the system
 * disk of a stopped VM), detached (the system disk only from a stopped VM: 423), grown, deleted. A detached
 * disk stays the VM's until the VM is deleted; then it is nobody's and any VM on its node may attach it.
 */
@Injectable()
export class DisksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  async list(principal: Principal, filter: { vmId?: string; detached?: boolean }): Promise<{ items: DiskView[] }> {
    const rows: DiskRow[] = await this.dataSource.query(
      `SELECT * FROM disks WHERE tenant_id = $1 AND ($2::uuid IS NULL OR vm_id = $2) AND ($3::boolean IS NULL OR (position IS NULL) = $3)
        ORDER BY vm_id NULLS LAST, position NULLS LAST, created_at`,
      [principal.tenantId, filter.vmId ?? null, filter.detached ?? null],
    );
    return { items: rows.map(toView) };
  }

  async listOfVm(principal: Principal, vmId: string): Promise<{ items: DiskView[] }> {
    const [vm] = await this.dataSource.query(`SELECT 1 FROM vms WHERE id = $1 AND tenant_id = $2`, [vmId, principal.tenantId]);
    if (!vm) throw notFound('VM', vmId);
    return this.list(principal, { vmId });
  }

  create(principal: Principal, vmId: string, dto: { sizeGb: number; position?: number }, options: MutationOptions): Promise<LaunchResult> {
    const diskId = randomUUID();
    return this.operations.launch<DiskCreateInput>(
      {
        principal,
        operation: OPERATIONS['disk.create'],
        request: { vmId, sizeGb: dto.sizeGb, position: dto.position ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the disks of');
          const position = await freeDiskPosition(tx, vm, dto.position);
          await assertStorageFits(tx, vm.nodeId, dto.sizeGb);
          // Recorded detached until the operation attaches it, so its storage counts against the node at once.
          await insertDetachedDisk(tx, { id: diskId, tenantId: principal.tenantId, nodeId: vm.nodeId, vmId, sizeGb: dto.sizeGb });
          return {
            vm,
            input: { ...vmOperationInput(operationId, vm), disk: { diskId, position, sizeGb: dto.sizeGb } },
            reservations: { diskIds: [diskId] },
          };
        },
      },
      options,
    );
  }

  attach(principal: Principal, vmId: string, diskId: string, dto: { position?: number }, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch<DiskAttachInput>(
      {
        principal,
        operation: OPERATIONS['disk.attach'],
        request: { vmId, diskId, position: dto.position ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the disks of');
          const [disk]: DiskRow[] = await tx.query(`SELECT * FROM disks WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [
            diskId,
            principal.tenantId,
          ]);
          if (!disk || (disk.vm_id !== null && disk.vm_id !== vmId)) throw notFound('disk', diskId);
          if (disk.position !== null) {
            throw new ApiError(
              'DISK_ATTACHED',
              `disk ${diskId} is attached at position ${disk.position}; a disk is attached to one VM at a time`,
              { position: disk.position },
            );
          }
          if (disk.node_id !== vm.nodeId) {
            throw new ApiError('NODE_MISMATCH', `disk ${diskId} is on another node than ${vm.hostname}`, { diskNodeId: disk.node_id });
          }
          let displaced: DiskAttachInput['displaced'] = null;
          let position: number;
          if (dto.position === 0) {
            assertStopped(vm, 'change its system disk');
            const [system]: DiskRow[] = await tx.query(`SELECT * FROM disks WHERE vm_id = $1 AND position = 0`, [vmId]);
            if (system) displaced = { diskId: system.id, to: await freeDiskPosition(tx, vm, undefined), sizeGb: system.size_gb };
            position = 0;
          } else {
            position = await freeDiskPosition(tx, vm, dto.position);
          }
          return { vm, input: { ...vmOperationInput(operationId, vm), disk: { diskId, position, sizeGb: disk.size_gb }, displaced } };
        },
      },
      options,
    );
  }

  detach(principal: Principal, vmId: string, diskId: string, options: MutationOptions): Promise<LaunchResult> {
    return this.change(principal, vmId, diskId, OPERATIONS['disk.detach'], {}, options, (vm, disk) => {
      if (disk.position === null) throw new ApiError('DISK_DETACHED', `disk ${diskId} is not attached`, {});
      if (disk.position === 0) assertStopped(vm, 'detach its system disk');
    });
  }

  resize(principal: Principal, vmId: string, diskId: string, sizeGb: number, options: MutationOptions): Promise<LaunchResult> {
    return this.change(principal, vmId, diskId, OPERATIONS['disk.resize'], { sizeGb }, options, async (vm, disk, tx) => {
      if (sizeGb <= disk.sizeGb) {
        throw new ApiError('INVALID_PARAMETER', `disk ${diskId} is ${disk.sizeGb} GB; a disk only grows: give a larger sizeGb`, {
          field: 'sizeGb',
          sizeGb: disk.sizeGb,
        });
      }
      await assertStorageFits(tx, vm.nodeId, sizeGb - disk.sizeGb);
    });
  }

  delete(principal: Principal, vmId: string, diskId: string, options: MutationOptions): Promise<LaunchResult> {
    return this.change(principal, vmId, diskId, OPERATIONS['disk.delete'], {}, options, (vm, disk) => {
      if (disk.position === 0) {
        throw new ApiError(
          'SYSTEM_DISK',
          `disk ${diskId} is the system disk of ${vm.hostname}; detach it first (with the VM stopped), or delete the VM`,
          {},
        );
      }
    });
  }

  /** disk.detach / disk.resize / disk.delete: lock the VM, find its disk, check, launch. */
  private change(
    principal: Principal,
    vmId: string,
    diskId: string,
    operation: OperationEntry<DiskChangeInput>,
    extra: { sizeGb?: number },
    options: MutationOptions,
    check: (vm: LockedVm, disk: DiskRecord, tx: EntityManager) => void | Promise<void>,
  ): Promise<LaunchResult> {
    return this.operations.launch<DiskChangeInput>(
      {
        principal,
        operation,
        request: { vmId, diskId, ...extra },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the disks of');
          const disk = await diskOfVm(tx, vmId, diskId);
          if (!disk) throw notFound('disk', diskId);
          await check(vm, disk, tx);
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              disk: { diskId, position: disk.position ?? -1, sizeGb: disk.sizeGb },
              attachedAt: disk.position,
              ...extra,
            },
          };
        },
      },
      options,
    );
  }
}

function assertStopped(vm: LockedVm, action: string): void {
  if (vm.status !== 'stopped') {
    throw new ApiError('VM_INVALID_STATE', `${vm.hostname} is ${vm.status}; stop it to ${action}`, {
      status: vm.status,
      required: 'stopped',
    });
  }
}

/** `wanted` if it is free (409 otherwise), else the lowest free data position. */
export async function freeDiskPosition(
  tx: EntityManager,
  vm: Pick<LockedVm, 'id' | 'hostname'>,
  wanted: number | undefined,
): Promise<number> {
  const taken = new Set<number>(
    (await tx.query(`SELECT position FROM disks WHERE vm_id = $1 AND position IS NOT NULL`, [vm.id])).map(
      (r: { position: number }) => r.position,
    ),
  );
  if (wanted !== undefined) {
    if (taken.has(wanted))
      throw new ApiError('POSITION_TAKEN', `${vm.hostname} already has a disk at position ${wanted}`, { position: wanted });
    return wanted;
  }
  for (let p = 1; p <= MAX_DISK_POSITION; p++) if (!taken.has(p)) return p;
  throw new ApiError('DISK_LIMIT_REACHED', `${vm.hostname} has a disk at every position (1-${MAX_DISK_POSITION})`, {});
}

/** 417 unless the node has `gb` of storage free; it stays locked until the caller records them (lockNodeUsage). */
export async function assertStorageFits(tx: EntityManager, nodeId: string, gb: number): Promise<void> {
  const [node] = await lockNodeUsage(tx, [nodeId]);
  const free = node.storageGb - node.usedStorageGb;
  if (free < gb) {
    throw new ApiError('INSUFFICIENT_CAPACITY', `node ${node.name} has ${free} GB of storage free; ${gb} GB asked`, {
      freeStorageGb: free,
    });
  }
}
