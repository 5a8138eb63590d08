import { OPERATIONS } from '@vmops/catalogue';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DeleteVmInput, RebuildVmInput, UpdateVmInput } from '@vmops/contracts';
import { lockTemplateForUse } from '../templates/template-use';
import { DiskEntity, lockNodeUsage, NetworkInterfaceEntity, VmEntity } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput, type LockedVm } from '../operations/vm-lock.service';
import type { RebuildVmDto, UpdateVmDto } from './lifecycle.dto';
import { toVmView, type VmView } from './vm.view';
import { assertPowerState, defaultStopTimeout } from './vms.service';

/** Delete, resize and rebuild a VM. */
@Injectable()
export class VmLifecycleService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  delete(principal: Principal, vmId: string, deleteAllDisks: boolean, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch<DeleteVmInput>(
      {
        principal,
        operation: OPERATIONS['vm.delete'],
        request: { vmId, deleteAllDisks },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'delete');
          const disks: { id: string; position: number | null; size_gb: number }[] = await tx.query(
            `SELECT id, position, size_gb FROM disks WHERE vm_id = $1 ORDER BY position NULLS LAST`,
            [vmId],
          );
          const nics: { id: string; position: number | null }[] = await tx.query(
            `SELECT id, position FROM network_interfaces WHERE vm_id = $1 ORDER BY position`,
            [vmId],
          );
          const slot = (d: { id: string; position: number | null; size_gb: number }) => ({
            diskId: d.id,
            position: d.position ?? -1,
            sizeGb: d.size_gb,
          });
          const system = disks.find((d) => d.position === 0);
          const attachedNics = nics.filter((n) => n.position !== null).map((n) => ({ nicId: n.id, position: n.position! }));
          const first = attachedNics.find((n) => n.position === 0) ?? null;
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              running: vm.status === 'running',
              cpus: vm.cpus,
              memoryMb: vm.memoryMb,
              systemDisk: system ? slot(system) : null,
              // Detached disks are the VM's too: they are kept (or deleted) with the attached ones.
              otherDisks: disks.filter((d) => d.position !== 0).map(slot),
              firstNic: first,
              otherNics: attachedNics.filter((n) => n !== first),
              deleteAllDisks,
            },
          };
        },
      },
      options,
    );
  }

  /**
   * New vCPUs/memory (Gandi vm.update, Gigas PUT): a stopped VM is resized at once; a running one is restarted
   * to apply them (`apply: restart`) or keeps them for its next stop (`apply: next_stop`, 200, nothing runs).
   * Label and note change at once.
   */
  async update(
    principal: Principal,
    vmId: string,
    dto: UpdateVmDto,
    options: MutationOptions,
  ): Promise<LaunchResult | { kind: 'updated'; vm: VmView }> {
    const resizing = dto.cpus !== undefined || dto.memoryMb !== undefined;
    if (!resizing) {
      if (dto.apply) throw invalidParameter('apply', 'apply only goes with cpus or memoryMb');
      return { kind: 'updated', vm: await this.updateLabels(principal, vmId, dto) };
    }
    if (dto.apply === 'next_stop') return { kind: 'updated', vm: await this.keepForNextStop(principal, vmId, dto) };

    return this.operations.launch<UpdateVmInput>(
      {
        principal,
        operation: OPERATIONS['vm.update'],
        request: { vmId, cpus: dto.cpus ?? null, memoryMb: dto.memoryMb ?? null, apply: dto.apply ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'resize');
          if (vm.status === 'running' && dto.apply !== 'restart') {
            throw new ApiError(
              'VM_INVALID_STATE',
              `${vm.hostname} is running: pass apply "restart" to restart it now, or "next_stop" to apply the size when it next stops`,
              {
                status: vm.status,
                required: 'stopped',
              },
            );
          }
          const to = { cpus: dto.cpus ?? vm.cpus, memoryMb: dto.memoryMb ?? vm.memoryMb };
          await this.assertResizeFits(tx, vm, to);
          await tx.query(`UPDATE vms SET label = coalesce($2, label), note = coalesce($3, note) WHERE id = $1`, [
            vmId,
            dto.label ?? null,
            dto.note ?? null,
          ]);
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              from: { cpus: vm.cpus, memoryMb: vm.memoryMb },
              to,
              restart: vm.status === 'running',
              stopTimeoutSeconds: defaultStopTimeout(vm),
            },
          };
        },
      },
      options,
    );
  }

  rebuild(principal: Principal, vmId: string, dto: RebuildVmDto, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch<RebuildVmInput>(
      {
        principal,
        operation: OPERATIONS['vm.rebuild'],
        request: { vmId, templateId: dto.templateId ?? null, startAfter: dto.startAfter ?? true },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'rebuild');
          const templateId = dto.templateId ?? vm.templateId;
          if (!templateId) throw invalidParameter('templateId', `${vm.hostname} was not built from a template: name one`);
          const template = await lockTemplateForUse(tx, principal.tenantId, templateId);
          const disks: { id: string; position: number; size_gb: number }[] = await tx.query(
            `SELECT id, position, size_gb FROM disks WHERE vm_id = $1 AND position IS NOT NULL ORDER BY position`,
            [vmId],
          );
          const system = disks.find((d) => d.position === 0);
          if (!system) throw new ApiError('VM_INVALID_STATE', `${vm.hostname} has no system disk to rebuild`, {});
          if (system.size_gb < template.disk_size_gb) {
            throw new ApiError(
              'DISK_SIZE_MISMATCH',
              `template ${template.name} needs a ${template.disk_size_gb} GB system disk; ${vm.hostname}'s is ${system.size_gb} GB`,
              {
                templateSizeGb: template.disk_size_gb,
              },
            );
          }
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              running: vm.status === 'running',
              startAfter: dto.startAfter ?? true,
              fromTemplateId: vm.templateId,
              templateId,
              replacements: disks.map((d) => ({ oldDiskId: d.id, newDiskId: randomUUID(), position: d.position, sizeGb: d.size_gb })),
              stopTimeoutSeconds: defaultStopTimeout(vm),
            },
          };
        },
      },
      options,
    );
  }

  private async updateLabels(principal: Principal, vmId: string, dto: UpdateVmDto): Promise<VmView> {
    const [rows] = await this.dataSource.query(
      `UPDATE vms SET label = CASE WHEN $3 THEN $4 ELSE label END, note = CASE WHEN $5 THEN $6 ELSE note END, updated_at = now()
        WHERE id = $1 AND tenant_id = $2 RETURNING id`,
      [vmId, principal.tenantId, dto.label !== undefined, dto.label ?? null, dto.note !== undefined, dto.note ?? null],
    );
    if (!rows.length) throw notFound('VM', vmId);
    return this.view(vmId);
  }

  private async keepForNextStop(principal: Principal, vmId: string, dto: UpdateVmDto): Promise<VmView> {
    await this.dataSource.transaction(async (tx) => {
      const [vm] = await tx.query(`SELECT * FROM vms WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [vmId, principal.tenantId]);
      if (!vm) throw notFound('VM', vmId);
      if (vm.current_operation_id) await this.locks.assertIdle(principal.tenantId, vmId);
      assertPowerState(vm, 'keep a new size for its next stop', 'running');
      await this.assertResizeFits(
        tx,
        { hostname: vm.hostname, nodeId: vm.node_id, cpus: vm.cpus, memoryMb: vm.memory_mb },
        {
          cpus: dto.cpus ?? vm.cpus,
          memoryMb: dto.memoryMb ?? vm.memory_mb,
        },
      );
      await tx.query(
        `UPDATE vms SET pending_cpus = $2, pending_memory_mb = $3, label = coalesce($4, label), note = coalesce($5, note), updated_at = now() WHERE id = $1`,
        [vmId, dto.cpus ?? vm.cpus, dto.memoryMb ?? vm.memory_mb, dto.label ?? null, dto.note ?? null],
      );
    });
    return this.view(vmId);
  }

  /**
   * 417 when the node cannot hold the VM at its new size. The node stays locked until the caller records the
   * resize (lockNodeUsage), and the usage counts the VM at its current size: only the growth is asked for.
   */
  private async assertResizeFits(
    tx: EntityManager,
    vm: Pick<LockedVm, 'hostname' | 'nodeId' | 'cpus' | 'memoryMb'>,
    to: { cpus: number; memoryMb: number },
  ): Promise<void> {
    const [node] = await lockNodeUsage(tx, [vm.nodeId]);
    const growth = { cpus: Math.max(0, to.cpus - vm.cpus), memoryMb: Math.max(0, to.memoryMb - vm.memoryMb) };
    const free = { cpus: node.cpus - node.usedCpus, memoryMb: node.memoryMb - node.usedMemoryMb };
    if (growth.cpus > free.cpus || growth.memoryMb > free.memoryMb) {
      throw new ApiError(
        'INSUFFICIENT_CAPACITY',
        `node ${node.name} has ${free.cpus} vCPU and ${free.memoryMb} MB of memory free; growing ${vm.hostname} to ${to.cpus} vCPU and ${to.memoryMb} MB needs ${growth.cpus} and ${growth.memoryMb}`,
        { freeCpus: free.cpus, freeMemoryMb: free.memoryMb },
      );
    }
  }

  private async view(vmId: string): Promise<VmView> {
    const vm = await this.dataSource.getRepository(VmEntity).findOneByOrFail({ id: vmId });
    return toVmView(
      vm,
      await this.dataSource.getRepository(DiskEntity).findBy({ vmId }),
      await this.dataSource.getRepository(NetworkInterfaceEntity).findBy({ vmId }),
    );
  }
}
