import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CreateVmInput, OperationPlan, OperationType, VmPowerInput } from '@vmops/contracts';
import type { VmStatus } from '@vmops/domain';
import { DiskEntity, TemplateEntity, VmEntity } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import { In, type EntityManager, type Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService } from '../operations/vm-lock.service';
import { createVmPlan } from '../../../../workflows/plans/create-vm.plan';
import { startVmPlan, stopVmPlan } from '../../../../workflows/plans/power.plan';
import type { CreateVmDto } from './create-vm.dto';
import type { ListVmsQuery } from './list-vms.query';
import { placeVm } from './placement';
import { toVmView, type VmView } from './vm.view';

const UNIQUE_VIOLATION = '23505';

export type PowerAction = 'start' | 'stop';

const POWER: Record<PowerAction, { type: OperationType; workflowType: string; plan: (input: VmPowerInput) => OperationPlan; requires: VmStatus }> = {
  start: { type: 'vm.start', workflowType: 'startVmWorkflow', plan: startVmPlan, requires: 'stopped' },
  stop: { type: 'vm.stop', workflowType: 'stopVmWorkflow', plan: stopVmPlan, requires: 'running' },
};

@Injectable()
export class VmsService {
  constructor(
    @InjectRepository(VmEntity) private readonly vms: Repository<VmEntity>,
    @InjectRepository(DiskEntity) private readonly disks: Repository<DiskEntity>,
    @InjectRepository(TemplateEntity) private readonly templates: Repository<TemplateEntity>,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  async list(principal: Principal, query: ListVmsQuery): Promise<{ items: VmView[]; total: number; limit: number; offset: number }> {
    const [vms, total] = await this.vms.findAndCount({
      where: { tenantId: principal.tenantId, ...(query.status ? { status: query.status } : {}) },
      order: { hostname: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
    const disks = vms.length ? await this.disks.findBy({ vmId: In(vms.map((v) => v.id)) }) : [];
    return { items: vms.map((vm) => toVmView(vm, disks)), total, limit: query.limit, offset: query.offset };
  }

  async get(principal: Principal, id: string): Promise<VmView> {
    const vm = await this.vms.findOneBy({ id, tenantId: principal.tenantId });
    if (!vm) throw notFound('VM', id);
    return toVmView(vm, await this.disks.findBy({ vmId: vm.id }));
  }

  async create(principal: Principal, dto: CreateVmDto, options: MutationOptions): Promise<LaunchResult> {
    const template = await this.templates.findOneBy({ id: dto.templateId });
    if (!template) throw invalidParameter('templateId', `template ${dto.templateId} does not exist`);
    const diskSizeGb = dto.diskSizeGb ?? template.diskSizeGb;
    if (diskSizeGb < template.diskSizeGb) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `diskSizeGb must be at least ${template.diskSizeGb}, the size of template ${template.name}`, {
        fields: [{ field: 'diskSizeGb', problems: [`must be at least ${template.diskSizeGb}`] }],
      });
    }
    const start = dto.start ?? true;

    return this.operations.launch<CreateVmInput>({
      principal,
      type: 'vm.create',
      workflowType: 'createVmWorkflow',
      plan: createVmPlan,
      request: {
        hostname: dto.hostname,
        templateId: dto.templateId,
        cpus: dto.cpus,
        memoryMb: dto.memoryMb,
        diskSizeGb,
        label: dto.label ?? null,
        note: dto.note ?? null,
        nodeId: dto.nodeId ?? null,
        start,
      },
      prepare: async (tx, operationId) => {
        await this.assertHostnameFree(tx, principal.tenantId, dto.hostname);
        const node = await placeVm(tx, { cpus: dto.cpus, memoryMb: dto.memoryMb, storageGb: diskSizeGb }, dto.nodeId);
        const vmId = randomUUID();
        const systemDiskId = randomUUID();
        try {
          await tx.insert(VmEntity, {
            id: vmId,
            tenantId: principal.tenantId,
            hostname: dto.hostname,
            label: dto.label ?? null,
            note: dto.note ?? null,
            cpus: dto.cpus,
            memoryMb: dto.memoryMb,
            nodeId: node.id,
            templateId: template.id,
            status: 'creating',
            currentOperationId: operationId,
          });
        } catch (err) {
          if ((err as { driverError?: { code?: string } }).driverError?.code === UNIQUE_VIOLATION) throw hostnameTaken(dto.hostname);
          throw err;
        }
        // The system disk is recorded up front so that its storage counts against the node at once.
        await tx.insert(DiskEntity, {
          id: systemDiskId,
          tenantId: principal.tenantId,
          nodeId: node.id,
          vmId,
          position: 0,
          sizeGb: diskSizeGb,
          templateId: template.id,
        });
        return {
          vm: { id: vmId, hostname: dto.hostname, nodeId: node.id },
          input: {
            operationId,
            tenantId: principal.tenantId,
            vmId,
            hostname: dto.hostname,
            nodeId: node.id,
            templateId: template.id,
            systemDiskId,
            systemDiskSizeGb: diskSizeGb,
            cpus: dto.cpus,
            memoryMb: dto.memoryMb,
            start,
          },
        };
      },
      abandon: async (tx, vmId) => {
        await tx.delete(DiskEntity, { vmId });
        await tx.delete(VmEntity, { id: vmId });
      },
    }, options);
  }

  /** vm.start / vm.stop: the VM must be idle and in the state the action starts from (423 otherwise). */
  async power(principal: Principal, vmId: string, action: PowerAction, options: MutationOptions): Promise<LaunchResult> {
    const spec = POWER[action];
    await this.locks.releaseIfStale(principal.tenantId, vmId);
    return this.operations.launch<VmPowerInput>(
      {
        principal,
        type: spec.type,
        workflowType: spec.workflowType,
        plan: spec.plan,
        request: { vmId },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquire(tx, principal.tenantId, vmId, operationId);
          if (vm.status !== spec.requires) {
            throw new ApiError(HttpStatus.LOCKED, 'VM_INVALID_STATE', `${vm.hostname} is ${vm.status}; it must be ${spec.requires} to ${action}`, {
              status: vm.status,
              required: spec.requires,
            });
          }
          return { vm, input: { operationId, vmId, hostname: vm.hostname, nodeId: vm.nodeId } };
        },
        abandon: (tx, id, operationId) => this.locks.release(tx, id, operationId),
      },
      options,
    );
  }

  private async assertHostnameFree(tx: EntityManager, tenantId: string, hostname: string): Promise<void> {
    if (await tx.exists(VmEntity, { where: { tenantId, hostname } })) throw hostnameTaken(hostname);
  }
}

function hostnameTaken(hostname: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, 'HOSTNAME_TAKEN', `you already have a VM named ${hostname}; choose another hostname`, { hostname });
}
