import { OPERATIONS } from '@vmops/catalogue';
import { operationWorkflowId, pendingSteps, type DrainActivities } from '@vmops/contracts';
import { admitMigration, insertOperation, releaseVmLock, requestHash, takeVmLock, vmLockHolder } from '@vmops/persistence';
import type { DataSource } from 'typeorm';

/** The drain's activity: each VM's migration admitted and recorded as the API records one (admitMigration, insertOperation). */
export function createDrainActivities(dataSource: DataSource): DrainActivities {
  return {
    launchDrainMigration: ({ drainOperationId, requestedByTenantId, operationId, vmId, nodeId }) =>
      dataSource.transaction(async (tx) => {
        // A retried call: its record never reached a workflow (the drain starts it only once this call has answered),
        // so it is made anew, on the world as it is now.
        const [previous] = await tx.query(`SELECT finished_at FROM operations WHERE id = $1 FOR UPDATE`, [operationId]);
        if (previous?.finished_at)
          return {
            refused: {
              code: 'LAUNCH_ABANDONED',
              message: `the migration's record was settled before it could start (operation ${operationId})`,
            },
          };
        if (previous) {
          await releaseVmLock(tx, vmId, operationId);
          await tx.query(`DELETE FROM operations WHERE id = $1`, [operationId]);
        }

        const vm = await takeVmLock(tx, vmId, operationId, { nodeId });
        if (!vm) {
          const holder = await vmLockHolder(tx, vmId);
          if (!holder) return { gone: 'the VM was deleted meanwhile' };
          if (holder.nodeId !== nodeId) return { gone: 'the VM left the node meanwhile' };
          return { refused: { code: 'VM_BUSY', message: `busy with operation ${holder.operation?.id} (${holder.operation?.type})` } };
        }

        const admission = await admitMigration(tx, vm, { operationId, finalizeTimeoutSeconds: null });
        if (!admission.admitted) {
          await releaseVmLock(tx, vmId, operationId);
          const reasons = admission.targets
            ? admission.targets.map((t) => `${t.name}: ${t.reasons.map((r) => r.message).join(', ')}`)
            : admission.reasons.map((r) => r.message);
          return { refused: { code: 'MIGRATION_REFUSED', message: reasons.join('; ') } };
        }

        const request = { vmId, targetNodeId: null, mode: null, finalize: true, finalizeTimeoutSeconds: null, drainOperationId };
        const workflowId = operationWorkflowId('vm.migrate', vm.hostname, operationId);
        await insertOperation(tx, {
          id: operationId,
          tenantId: vm.tenantId,
          vmId,
          type: 'vm.migrate',
          workflowId,
          request,
          steps: pendingSteps(OPERATIONS['vm.migrate'].plan(admission.input)),
          idempotencyKey: null,
          requestHash: requestHash('vm.migrate', request),
          deadlineSeconds: OPERATIONS['vm.migrate'].deadlineSeconds,
          reservations: admission.reservations,
          requestedByTenantId: vm.tenantId === requestedByTenantId ? null : requestedByTenantId,
        });
        return { started: { workflowId, tenantId: vm.tenantId, input: admission.input } };
      }),
  };
}
