import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { VmOperationInput } from '@vmops/contracts';
import { takeVmLock, vmLockHolder, type LockedVmRow } from '@vmops/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiError, notFound } from '../common/api-error';

/** The VM as a launch took it (takeVmLock's row). */
export type LockedVm = LockedVmRow;

/** What the input of every operation on one VM starts from: the operation, and the VM it took. */
export function vmOperationInput(operationId: string, vm: Pick<LockedVm, 'id' | 'hostname' | 'nodeId'>): VmOperationInput {
  return { operationId, vmId: vm.id, hostname: vm.hostname, nodeId: vm.nodeId };
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
    // The holder may finish between the take and the look at who holds it: then the take is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const locked = await takeVmLock(tx, vmId, operationId, { tenantId });
      if (locked) return locked;
      const why = await this.whyNotIdle(tx, tenantId, vmId);
      if (why) throw why;
    }
    throw new ApiError('VM_BUSY', `VM ${vmId} is taken and freed by other operations faster than this request can take it; try again`, {});
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
    const error = await this.whyNotIdle(this.dataSource.manager, tenantId, vmId);
    if (error) throw error;
  }

  /** Why the VM cannot be taken: 404, 423 VM_STUCK or 409 VM_BUSY naming the operation holding it; null if it is free. */
  private async whyNotIdle(tx: EntityManager, tenantId: string, vmId: string): Promise<ApiError | null> {
    const vm = await vmLockHolder(tx, vmId, tenantId);
    if (!vm) return notFound('VM', vmId);
    if (!vm.operation) return null;
    if (vm.operation.status === 'stuck') {
      return new ApiError('VM_STUCK', `${vm.hostname} needs attention: operation ${vm.operation.id} could not undo its steps`, {
        operationId: vm.operation.id,
      });
    }
    return new ApiError(
      'VM_BUSY',
      `${vm.hostname} is busy with operation ${vm.operation.id} (${vm.operation.type}); wait for it or cancel it`,
      {
        operationId: vm.operation.id,
        type: vm.operation.type,
      },
    );
  }
}
