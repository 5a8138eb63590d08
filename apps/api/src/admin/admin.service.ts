import { OPERATIONS } from '@vmops/catalogue';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DrainNodeInput, VmPowerInput } from '@vmops/contracts';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';

/** What platform operators start on any tenant's resources: the reset of a stuck VM, the drain of a node. */
@Injectable()
export class AdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
  ) {}

  /** vm.reset, in the VM's tenant: the inventory takes the VM's state from its node, and the VM is released. */
  async resetVm(admin: Principal, vmId: string, options: MutationOptions): Promise<LaunchResult> {
    const [owner] = await this.dataSource.query(`SELECT tenant_id FROM vms WHERE id = $1`, [vmId]);
    if (!owner) throw notFound('VM', vmId);
    return this.operations.launch<VmPowerInput>(
      {
        principal: admin,
        onBehalfOf: owner.tenant_id,
        operation: OPERATIONS['vm.reset'],
        request: { vmId, resetBy: admin.apiKeyId },
        prepare: async (tx, operationId) => {
          const [vm] = await tx.query(
            `SELECT v.hostname, v.node_id, v.current_operation_id, o.status
               FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id
              WHERE v.id = $1 FOR UPDATE OF v`,
            [vmId],
          );
          if (!vm) throw notFound('VM', vmId);
          if (vm.status !== 'stuck') {
            throw new ApiError('VM_NOT_STUCK', `${vm.hostname} is not stuck; there is nothing to reset`, {
              operationId: vm.current_operation_id,
            });
          }
          // The reset takes the lock over from the stuck operation; finishing releases it, a reset that never runs hands it back.
          await tx.query(`UPDATE vms SET current_operation_id = $2, updated_at = now() WHERE id = $1`, [vmId, operationId]);
          return {
            vm: { id: vmId, hostname: vm.hostname, nodeId: vm.node_id },
            input: { operationId, vmId, hostname: vm.hostname, nodeId: vm.node_id },
            reservations: { lockTakenFrom: vm.current_operation_id },
          };
        },
      },
      options,
    );
  }

  /** node.drain: the node goes to maintenance, then each of its VMs migrates off, `concurrency` at a time. */
  async drainNode(admin: Principal, nodeId: string, concurrency: number, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch<DrainNodeInput>(
      {
        principal: admin,
        operation: OPERATIONS['node.drain'],
        request: { nodeId, concurrency },
        outline: (input) =>
          input.vms.map((vm) => ({
            name: `migrate:${vm.hostname}`,
            activity: null,
            summary: `Migrate ${vm.hostname} off ${input.nodeName} (an operation of its own)`,
            undo: null,
            undoActivity: null,
            commit: false,
            childWorkflow: OPERATIONS['vm.migrate'].workflowType,
          })),
        prepare: async (tx, operationId) => {
          const [node] = await tx.query(`SELECT id, name, status FROM nodes WHERE id = $1 FOR UPDATE`, [nodeId]);
          if (!node) throw notFound('Node', nodeId);
          const [running] = await tx.query(
            `SELECT id FROM operations WHERE type = 'node.drain' AND finished_at IS NULL AND request->>'nodeId' = $1 LIMIT 1`,
            [nodeId],
          );
          if (running) {
            throw new ApiError('NODE_BUSY', `node ${node.name} is being drained by operation ${running.id}; wait for it or cancel it`, {
              operationId: running.id,
              type: 'node.drain',
            });
          }
          const vms: { id: string; hostname: string }[] = await tx.query(
            `SELECT id, hostname FROM vms WHERE node_id = $1 ORDER BY hostname`,
            [nodeId],
          );
          // From now on placement sends nothing new there; a drain that never starts puts the status back.
          await tx.query(`UPDATE nodes SET status = 'maintenance' WHERE id = $1`, [nodeId]);
          return {
            node: { id: node.id, name: node.name },
            input: {
              operationId,
              tenantId: admin.tenantId,
              nodeId,
              nodeName: node.name,
              concurrency,
              vms: vms.map((v) => ({ vmId: v.id, hostname: v.hostname })),
            },
            reservations: { drainedNode: { nodeId, previousStatus: node.status } },
          };
        },
      },
      options,
    );
  }
}
