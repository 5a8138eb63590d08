import { OPERATIONS } from '@vmops/catalogue';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { TemplateCreateInput, TemplateDeleteInput } from '@vmops/contracts';
import type { OsFamily } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, isUniqueViolation } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput } from '../operations/vm-lock.service';

export interface TemplateView {
  id: string;
  name: string;
  osFamily: string;
  diskSizeGb: number;
  /** `public`: a base template, everyone's; `tenant`: made by your tenant from one of its VMs. */
  visibility: 'public' | 'tenant';
  status: string;
  sourceVmId: string | null;
  description: string | null;
  createdAt: string;
}

interface TemplateRow {
  id: string;
  name: string;
  os_family: string;
  disk_size_gb: number;
  tenant_id: string | null;
  status: string;
  source_vm_id: string | null;
  node_id: string | null;
  description: string | null;
  created_at: Date;
}

const toView = (t: TemplateRow): TemplateView => ({
  id: t.id,
  name: t.name,
  osFamily: t.os_family,
  diskSizeGb: t.disk_size_gb,
  visibility: t.tenant_id ? 'tenant' : 'public',
  status: t.status,
  sourceVmId: t.source_vm_id,
  description: t.description,
  createdAt: t.created_at.toISOString(),
});

function nameTaken(name: string): ApiError {
  return new ApiError('NAME_TAKEN', `a template named ${name} already exists`, { name });
}

/**
 * Templates VMs are built from: base ones (everyone's, added by an admin) and those a tenant makes from a VM's
 * system disk (Gigas), which only that tenant sees and uses. A template in use by a VM is not deleted (409).
 */
@Injectable()
export class TemplatesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  async list(principal: Principal): Promise<{ items: TemplateView[]; total: number }> {
    const rows: TemplateRow[] = await this.dataSource.query(
      `SELECT * FROM templates WHERE tenant_id IS NULL OR tenant_id = $1 ORDER BY tenant_id NULLS FIRST, name`,
      [principal.tenantId],
    );
    return { items: rows.map(toView), total: rows.length };
  }

  async get(principal: Principal, id: string): Promise<TemplateView> {
    return toView(await this.visible(this.dataSource.manager, principal, id));
  }

  /** A base template (admin): recorded at once, ready. */
  async createBase(dto: { name: string; osFamily: OsFamily; diskSizeGb: number; description?: string }): Promise<TemplateView> {
    try {
      const [row] = await this.dataSource.query(
        `INSERT INTO templates (name, os_family, disk_size_gb, description) VALUES ($1, $2, $3, $4) RETURNING *`,
        [dto.name, dto.osFamily, dto.diskSizeGb, dto.description ?? null],
      );
      return toView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(dto.name);
      throw err;
    }
  }

  /** template.create: the VM's system disk, captured with the VM stopped or its filesystems frozen. */
  createFromVm(
    principal: Principal,
    dto: { name: string; vmId: string; fsfreeze?: boolean; description?: string },
    options: MutationOptions,
  ): Promise<LaunchResult> {
    const fsfreeze = dto.fsfreeze ?? false;
    return this.operations.launch<TemplateCreateInput>(
      {
        principal,
        operation: OPERATIONS['template.create'],
        request: { name: dto.name, vmId: dto.vmId, fsfreeze, description: dto.description ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, dto.vmId, operationId, 'make a template of');
          if (vm.status === 'running' && !fsfreeze) {
            throw new ApiError(
              'VM_INVALID_STATE',
              `${vm.hostname} is running; stop it, or pass fsfreeze: true to freeze its filesystems while its disk is captured (needs its guest agent)`,
              {
                status: vm.status,
                required: 'stopped',
              },
            );
          }
          const [disk] = await tx.query(`SELECT id, size_gb FROM disks WHERE vm_id = $1 AND position = 0`, [vm.id]);
          if (!disk) throw invalidParameter('vmId', `${vm.hostname} has no system disk attached`);
          const templateId = randomUUID();
          try {
            await tx.query(
              `INSERT INTO templates (id, name, os_family, disk_size_gb, tenant_id, status, source_vm_id, node_id, description)
               VALUES ($1, $2, $3, $4, $5, 'creating', $6, $7, $8)`,
              [templateId, dto.name, vm.osFamily ?? 'linux', disk.size_gb, principal.tenantId, vm.id, vm.nodeId, dto.description ?? null],
            );
          } catch (err) {
            if (isUniqueViolation(err)) throw nameTaken(dto.name);
            throw err;
          }
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              templateId,
              name: dto.name,
              diskId: disk.id,
              fsfreeze,
            },
            reservations: { templateIds: [templateId] },
          };
        },
      },
      options,
    );
  }

  /**
   * Deletes a template no VM uses (409 TEMPLATE_IN_USE naming them): the tenant's own through template.delete
   * (its image goes), a base one (admin) at once. Answers the operation, or null for a base template.
   */
  async delete(principal: Principal, id: string, options: MutationOptions): Promise<LaunchResult | null> {
    const [row]: TemplateRow[] = await this.dataSource.query(
      `SELECT * FROM templates WHERE id = $1 AND (tenant_id IS NULL OR tenant_id = $2)`,
      [id, principal.tenantId],
    );
    if (!row) throw notFoundTemplate(id);
    if (!row.tenant_id) {
      if (principal.role !== 'admin') throw new ApiError('ADMIN_REQUIRED', 'base templates are deleted with an admin key');
      if (options.dryRun) throw invalidParameter('dryRun', 'a base template is deleted at once: there is no plan to show');
      await this.dataSource.transaction(async (tx) => {
        await this.lockUnused(tx, principal, id);
        await tx.query(`DELETE FROM templates WHERE id = $1`, [id]);
      });
      return null;
    }
    return this.operations.launch<TemplateDeleteInput>(
      {
        principal,
        operation: OPERATIONS['template.delete'],
        request: { templateId: id },
        prepare: async (tx, operationId) => {
          const template = await this.lockUnused(tx, principal, id);
          if (template.status !== 'ready') {
            throw new ApiError('TEMPLATE_BUSY', `template ${template.name} is ${template.status}`, { status: template.status });
          }
          const [node] = await tx.query(`SELECT id, name FROM nodes WHERE id = $1`, [template.node_id]);
          await tx.query(`UPDATE templates SET status = 'deleting' WHERE id = $1`, [id]);
          return {
            node,
            input: { operationId, templateId: id, name: template.name, nodeId: node.id },
            reservations: { deletingTemplateId: id },
          };
        },
      },
      options,
    );
  }

  /** The template, locked against new users; 409 TEMPLATE_IN_USE naming the VMs that use it. */
  private async lockUnused(tx: EntityManager, principal: Principal, id: string): Promise<TemplateRow> {
    const [row]: TemplateRow[] = await tx.query(
      `SELECT * FROM templates WHERE id = $1 AND (tenant_id IS NULL OR tenant_id = $2) FOR UPDATE`,
      [id, principal.tenantId],
    );
    if (!row) throw notFoundTemplate(id);
    const users: { id: string; hostname: string }[] = await tx.query(
      `SELECT id, hostname FROM vms WHERE template_id = $1
       UNION SELECT v.id, v.hostname FROM disks d JOIN vms v ON v.id = d.vm_id WHERE d.template_id = $1
       ORDER BY hostname LIMIT 20`,
      [id],
    );
    if (users.length) {
      // A tenant's template is used by its own VMs only, which it may see named; a base one's users are counted.
      const named = row.tenant_id ? users : [];
      throw new ApiError(
        'TEMPLATE_IN_USE',
        `template ${row.name} is used by ${named.length ? named.map((u) => u.hostname).join(', ') : `${users.length} VM(s)`}; rebuild or delete them first`,
        { vms: named, count: users.length },
      );
    }
    return row;
  }

  private async visible(m: EntityManager, principal: Principal, id: string): Promise<TemplateRow> {
    const [row] = await m.query(`SELECT * FROM templates WHERE id = $1 AND (tenant_id IS NULL OR tenant_id = $2)`, [
      id,
      principal.tenantId,
    ]);
    if (!row) throw notFoundTemplate(id);
    return row;
  }
}

function notFoundTemplate(id: string): ApiError {
  return new ApiError('NOT_FOUND', `template ${id} does not exist`, { templateId: id });
}
