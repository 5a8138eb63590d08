import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CreateVmInput } from '@vmops/contracts';
import { DiskEntity, TemplateEntity, VmEntity } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import { In, type EntityManager, type Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { OperationsService } from '../operations/operations.service';
import type { OperationView } from '../operations/operation.view';
import type { CreateVmDto } from './create-vm.dto';
import type { ListVmsQuery } from './list-vms.query';
import { placeVm } from './placement';
import { toVmView, type VmView } from './vm.view';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class VmsService {
  constructor(
    @InjectRepository(VmEntity) private readonly vms: Repository<VmEntity>,
    @InjectRepository(DiskEntity) private readonly disks: Repository<DiskEntity>,
    @InjectRepository(TemplateEntity) private readonly templates: Repository<TemplateEntity>,
    private readonly operations: OperationsService,
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

  async create(principal: Principal, dto: CreateVmDto): Promise<OperationView> {
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
            locked: true,
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
    });
  }

  private async assertHostnameFree(tx: EntityManager, tenantId: string, hostname: string): Promise<void> {
    if (await tx.exists(VmEntity, { where: { tenantId, hostname } })) throw hostnameTaken(hostname);
  }
}

function hostnameTaken(hostname: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, 'HOSTNAME_TAKEN', `you already have a VM named ${hostname}; choose another hostname`, { hostname });
}
