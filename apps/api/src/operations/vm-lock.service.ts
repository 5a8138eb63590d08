import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { VmStatus } from '@vmops/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiError, notFound } from '../common/api-error';

export interface LockedVm {
  id: string;
  hostname: string;
  nodeId: string;
  status: VmStatus;
  frozen: boolean;
  /** The OS family of the VM's template (graceful stop timeouts differ for windows), if it has one. */
  osFamily: string | null;
  templateId: string | null;
  cpus: number;
  memoryMb: number;
  /** A size waiting for the next stop. */
  pendingSize: { cpus: number; memoryMb: number } | null;
}

/**
 * One mutating operation per VM at a time. The lock is the VM row's current_operation_id, taken with a
 * conditional UPDATE, so concurrent requests serialize on the row and exactly one wins. A lock whose
 * operation can no longer finish — its workflow was terminated, timed out, or never started — is settled by
 * the next launch for that VM (OperationsService.launch) or by the reconciler, whichever comes first.
 */
@Injectable()
export class VmLockService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Takes the VM for `operationId` inside the caller's transaction, or answers 404 / 409 VM_BUSY / 423 VM_STUCK. */
  async acquire(tx: EntityManager, tenantId: string, vmId: string, operationId: string): Promise<LockedVm> {
    const [rows] = await tx.query(
      `UPDATE vms SET current_operation_id = $3, updated_at = now()
        WHERE id = $1 AND tenant_id = $2 AND current_operation_id IS NULL
        RETURNING id, hostname, node_id, status, frozen, template_id, cpus, memory_mb, pending_cpus, pending_memory_mb,
                  (SELECT os_family FROM templates t WHERE t.id = vms.template_id) AS os_family`,
      [vmId, tenantId, operationId],
    );
    const locked = rows?.[0];
    if (locked) {
      return {
        id: locked.id,
        hostname: locked.hostname,
        nodeId: locked.node_id,
        status: locked.status,
        frozen: locked.frozen,
        osFamily: locked.os_family,
        templateId: locked.template_id,
        cpus: locked.cpus,
        memoryMb: locked.memory_mb,
        pendingSize: locked.pending_cpus ? { cpus: locked.pending_cpus, memoryMb: locked.pending_memory_mb } : null,
      };
    }

    throw await this.whyNotIdle(tx, tenantId, vmId);
  }

  /**
   * acquire, for operations that need the VM settled (running or stopped): one being created, or flagged
   * error, answers 423 until its operation or an admin reset settles it.
   */
  async acquireSettled(tx: EntityManager, tenantId: string, vmId: string, operationId: string, action: string): Promise<LockedVm> {
    const vm = await this.acquire(tx, tenantId, vmId, operationId);
    if (vm.status !== 'running' && vm.status !== 'stopped') {
      throw new ApiError('VM_INVALID_STATE', `${vm.hostname} is ${vm.status}; cannot ${action} it now`, { status: vm.status });
    }
    return vm;
  }

  /** Throws why the VM cannot be taken: 404, 423 VM_STUCK or 409 VM_BUSY naming the operation holding it. */
  async assertIdle(tenantId: string, vmId: string): Promise<void> {
    const [vm] = await this.dataSource.query(`SELECT current_operation_id FROM vms WHERE id = $1 AND tenant_id = $2`, [vmId, tenantId]);
    if (vm && !vm.current_operation_id) return;
    throw await this.whyNotIdle(this.dataSource.manager, tenantId, vmId);
  }

  private async whyNotIdle(tx: EntityManager, tenantId: string, vmId: string): Promise<ApiError> {
    const [vm] = await tx.query(
      `SELECT v.hostname, v.current_operation_id, o.type, o.status
         FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id
        WHERE v.id = $1 AND v.tenant_id = $2`,
      [vmId, tenantId],
    );
    if (!vm) return notFound('VM', vmId);
    if (vm.status === 'stuck') {
      return new ApiError('VM_STUCK', `${vm.hostname} needs attention: operation ${vm.current_operation_id} could not undo its steps`, {
        operationId: vm.current_operation_id,
      });
    }
    return new ApiError(
      'VM_BUSY',
      `${vm.hostname} is busy with operation ${vm.current_operation_id} (${vm.type}); wait for it or cancel it`,
      {
        operationId: vm.current_operation_id,
        type: vm.type,
      },
    );
  }
}
