import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { PageQuery } from '../common/page.query';
import { uuidParam } from '../common/params';
import { respondToLaunch } from '../operations/launch-response';
import { OperationsService, type MutationOptions } from '../operations/operations.service';
import { CreateVmDto } from './create-vm.dto';
import { ListVmsQuery } from './list-vms.query';
import { StartVmDto, ShutdownVmDto, StopVmDto } from './power.dto';
import { VmsService, type PowerAction, type PowerOptions } from './vms.service';

/** Swagger for every mutating VM endpoint: the options and the two success answers. */
export function MutatingEndpoint(summary: string, description: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary, description })(target, key, descriptor);
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key + same request → the same operation; same key + another request → 422' })(target, key, descriptor);
    ApiQuery({ name: 'dryRun', required: false, type: Boolean, description: 'true: answer 200 with the ordered steps (each with its undo) and start nothing' })(target, key, descriptor);
    ApiAcceptedResponse({ description: 'The operation; its address is in Location' })(target, key, descriptor);
    ApiOkResponse({ description: 'With dryRun=true: the plan' })(target, key, descriptor);
  };
}

@ApiTags('vms')
@ApiBearerAuth()
@Controller('v1/vms')
export class VmsController {
  constructor(
    private readonly vms: VmsService,
    private readonly operations: OperationsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List your VMs' })
  @ApiOkResponse({ description: '{ items, total, limit, offset }' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListVmsQuery) {
    return this.vms.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one VM as the inventory records it' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.vms.get(principal, id);
  }

  @Get(':id/operations')
  @ApiOperation({ summary: "The VM's action history, newest first" })
  async history(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string, @Query() page: PageQuery) {
    await this.vms.get(principal, id);
    return this.operations.list(principal, { vmId: id }, { limit: page.limit, offset: page.offset });
  }

  @Post()
  @MutatingEndpoint('Create a VM from a template', 'Starts a vm.create operation: system disk from the template, define, start.')
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateVmDto,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return respondToLaunch(res, await this.vms.create(principal, dto, options));
  }

  @Post(':id/start')
  @MutatingEndpoint(
    'Start a stopped VM',
    'Starts a vm.start operation; bootIso boots once from an ISO. 423 VM_INVALID_STATE unless stopped, 423 VM_FROZEN if frozen; 409 VM_BUSY while another operation runs on it.',
  )
  start(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Body() dto: StartVmDto, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'start', dto, o, res);
  }

  @Post(':id/stop')
  @MutatingEndpoint(
    'Stop a running VM: ACPI shutdown, then power off after the timeout',
    'Starts a vm.stop operation. The guest gets timeoutSeconds (default 180, 300 for Windows) to power off, then the VM is powered off; force powers it off at once. 423 unless running.',
  )
  stop(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Body() dto: StopVmDto, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'stop', dto, o, res);
  }

  @Post(':id/shutdown')
  @MutatingEndpoint(
    'Send the ACPI power button to a running VM',
    'Starts a vm.shutdown operation: never forces. A guest that does not power off within timeoutSeconds fails the operation (GuestDidNotStop) and keeps running. 423 unless running.',
  )
  shutdown(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Body() dto: ShutdownVmDto, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'shutdown', dto, o, res);
  }

  @Post(':id/reboot')
  @MutatingEndpoint(
    'Reboot a running VM: graceful, hard reset after the timeout',
    'Starts a vm.reboot operation; force resets at once. 423 unless running.',
  )
  reboot(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Body() dto: StopVmDto, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'reboot', dto, o, res);
  }

  @Post(':id/reset')
  @MutatingEndpoint('Hard-reset a running VM (the reset button)', 'Starts a vm.hard_reset operation. 423 unless running.')
  reset(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'reset', {}, o, res);
  }

  @Post(':id/freeze')
  @MutatingEndpoint('Freeze a stopped VM: it refuses to start until unfrozen', 'Starts a vm.freeze operation. 423 unless stopped and not frozen.')
  freeze(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'freeze', {}, o, res);
  }

  @Post(':id/unfreeze')
  @MutatingEndpoint('Unfreeze a frozen VM', 'Starts a vm.unfreeze operation. 423 VM_NOT_FROZEN unless frozen.')
  unfreeze(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions, @Res({ passthrough: true }) res: Response) {
    return this.power(p, id, 'unfreeze', {}, o, res);
  }

  private async power(principal: Principal, id: string, action: PowerAction, dto: PowerOptions, options: MutationOptions, res: Response) {
    return respondToLaunch(res, await this.vms.power(principal, id, action, dto, options));
  }
}
