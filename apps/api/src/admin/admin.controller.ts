import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { AdminOnly, CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import type { MutationOptions } from '../operations/operations.service';
import { Optional } from '../common/validation';
import { MutatingEndpoint } from '../vms/vms.controller';
import { AdminService } from './admin.service';

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
  constructor(private readonly admin: AdminService) {}

  @Post('vms/:id/reset')
  @MutatingEndpoint(
    'Clear a stuck VM once a human has fixed it',
    "Starts a vm.reset operation in the VM's tenant (202): the inventory takes the VM's state from its node, and the VM is released. 409 VM_NOT_STUCK unless an operation left it stuck.",
  )
  async reset(@CurrentPrincipal() admin: Principal, @Param('id', uuidParam('VM id')) vmId: string, @Mutation() options: MutationOptions) {
    return this.admin.resetVm(admin, vmId, options);
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
    return this.admin.drainNode(admin, nodeId, dto.concurrency ?? 2, options);
  }
}
