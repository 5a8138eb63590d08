import { Controller, HttpStatus, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { VmPowerInput } from '@vmops/contracts';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { AdminOnly, CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import { respondToLaunch } from '../operations/launch-response';
import { OperationsService, type MutationOptions } from '../operations/operations.service';
import { resetVmPlan } from '../../../../workflows/plans/reset-vm.plan';

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
  @ApiOperation({
    summary: 'Clear a stuck VM once a human has fixed it',
    description:
      "Starts a vm.reset operation in the VM's tenant: the inventory takes the VM's state from its node, and the VM is released. 409 VM_NOT_STUCK unless an operation left it stuck.",
  })
  async reset(
    @CurrentPrincipal() admin: Principal,
    @Param('id', uuidParam('VM id')) vmId: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
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
            throw new ApiError(HttpStatus.CONFLICT, 'VM_NOT_STUCK', `${vm.hostname} is not stuck; there is nothing to reset`, {
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
    return respondToLaunch(res, result);
  }
}
