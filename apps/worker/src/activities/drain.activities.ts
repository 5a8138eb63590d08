import { OPERATIONS } from '@vmops/catalogue';
import { operationWorkflowId, pendingSteps, type DrainActivities } from '@vmops/contracts';
import { admitMigration, insertOperation, requestHash } from '@vmops/persistence';
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
          await tx.query(`UPDATE vms SET current_operation_id = NULL WHERE id = $1 AND current_operation_id = $2`, [vmId, operationId]);
          await tx.query(`DELETE FROM operations WHERE id = $1`, [operationId]);
        }

        const [rows] = await tx.query(
          `UPDATE vms SET current_operation_id = $2, updated_at = now()
            WHERE id = $1 AND node_id = $3 AND current_operation_id IS NULL
            RETURNING id, tenant_id, hostname, node_id, status, frozen, cpus, memory_mb,
                      (SELECT os_family FROM templates t WHERE t.id = vms.template_id) AS os_family`,
          [vmId, operationId, nodeId],
        );
        const vm = rows[0];
        if (!vm) {
          const [now] = await tx.query(
            `SELECT v.node_id, v.current_operation_id, o.type FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id WHERE v.id = $1`,
            [vmId],
          );
          if (!now) return { gone: 'the VM was deleted meanwhile' };
          if (now.node_id !== nodeId) return { gone: 'the VM left the node meanwhile' };
          return { refused: { code: 'VM_BUSY', message: `busy with operation ${now.current_operation_id} (${now.type})` } };
        }

        const admission = await admitMigration(
          tx,
          {
            id: vm.id,
            hostname: vm.hostname,
            nodeId: vm.node_id,
            status: vm.status,
            frozen: vm.frozen,
            cpus: vm.cpus,
            memoryMb: vm.memory_mb,
            osFamily: vm.os_family,
          },
          { operationId, finalizeTimeoutSeconds: null },
        );
        if (!admission.admitted) {
          await tx.query(`UPDATE vms SET current_operation_id = NULL WHERE id = $1 AND current_operation_id = $2`, [vmId, operationId]);
          const reasons = admission.targets
            ? admission.targets.map((t) => `${t.name}: ${t.reasons.map((r) => r.message).join(', ')}`)
            : admission.reasons.map((r) => r.message);
          return { refused: { code: 'MIGRATION_REFUSED', message: reasons.join('; ') } };
        }

        const request = { vmId, targetNodeId: null, mode: null, finalize: true, finalizeTimeoutSeconds: null, drainOperationId };
        const workflowId = operationWorkflowId('vm.migrate', vm.hostname, operationId);
        await insertOperation(tx, {
          id: operationId,
          tenantId: vm.tenant_id,
          vmId,
          type: 'vm.migrate',
          workflowId,
          request,
          steps: pendingSteps(OPERATIONS['vm.migrate'].plan(admission.input)),
          idempotencyKey: null,
          requestHash: requestHash('vm.migrate', request),
          deadlineSeconds: OPERATIONS['vm.migrate'].deadlineSeconds,
          reservations: admission.reservations,
          requestedByTenantId: vm.tenant_id === requestedByTenantId ? null : requestedByTenantId,
        });
        return { started: { workflowId, tenantId: vm.tenant_id, input: admission.input } };
      }),
  };
}
