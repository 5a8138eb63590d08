import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DrainNodeInput, VmPowerInput } from '@vmops/contracts';
import { IsInt, Max, Min } from 'class-validator';
import type { DataSource } from 'typeorm';
import { AdminOnly, CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import { OperationsService, type MutationOptions } from '../operations/operations.service';
import { resetVmPlan } from '../../../../workflows/plans/reset-vm.plan';
import { Optional } from '../common/validation';
import { MutatingEndpoint } from '../vms/vms.controller';

export class DrainNodeDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 16, default: 2, description: 'How many VMs migrate off the node at once' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(16)
  concurrency?: number;
}

/** Platform operators' endpoints: they act on any tenant's resources. */
@ApiTags('admin')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin')
export class AdminController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
  ) {}

  @Post('vms/:id/reset')
  @MutatingEndpoint(
    'Clear a stuck VM once a human has fixed it',
    "Starts a vm.reset operation in the VM's tenant (202): the inventory takes the VM's state from its node, and the VM is released. 409 VM_NOT_STUCK unless an operation left it stuck.",
  )
  async reset(@CurrentPrincipal() admin: Principal, @Param('id', uuidParam('VM id')) vmId: string, @Mutation() options: MutationOptions) {
    const [owner] = await this.dataSource.query(`SELECT tenant_id FROM vms WHERE id = $1`, [vmId]);
    if (!owner) throw notFound('VM', vmId);
    const result = await this.operations.launch<VmPowerInput>(
      {
        principal: admin,
        onBehalfOf: owner.tenant_id,
        type: 'vm.reset',
        workflowType: 'resetVmWorkflow',
        plan: resetVmPlan,
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
    return result;
  }

  @Post('nodes/:id/drain')
  @MutatingEndpoint(
    'Drain a node before maintenance: put it in maintenance and migrate every VM off it',
    "Starts a node.drain operation: the node goes to maintenance (no new VM is placed there), then each of its VMs migrates off — a vm.migrate operation of its own, in the VM's tenant, with its own id, lock and history (children) — at most `concurrency` at a time, to the node placement picks. A VM that cannot move (busy, frozen, no node with room) is reported in its step, not forced; the drain then ends failed (VMS_NOT_MOVED) and names each. Cancel starts no new migration and cancels the running ones (they roll back, or finish past their point of no return); the node stays in maintenance. 409 NODE_BUSY while another drain of the node runs.",
  )
  async drain(
    @CurrentPrincipal() admin: Principal,
    @Param('id', uuidParam('node id')) nodeId: string,
    @Body() dto: DrainNodeDto,
    @Mutation() options: MutationOptions,
  ) {
    const concurrency = dto.concurrency ?? 2;
    const result = await this.operations.launch<DrainNodeInput>(
      {
        principal: admin,
        type: 'node.drain',
        workflowType: 'drainNodeWorkflow',
        request: { nodeId, concurrency },
        summary: (input) => `node.drain ${input.nodeName}: ${input.vms.length} VM(s), ${input.concurrency} at a time`,
        outline: (input) =>
          input.vms.map((vm) => ({
            name: `migrate:${vm.hostname}`,
            activity: null,
            summary: `Migrate ${vm.hostname} off ${input.nodeName} (an operation of its own)`,
            undo: null,
            undoActivity: null,
            commit: false,
            childWorkflow: 'migrateVmWorkflow',
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
    return result;
  }
}
