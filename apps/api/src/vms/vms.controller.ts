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
import { VmsService, type PowerAction } from './vms.service';

/** Swagger for every mutating VM endpoint: the options and the two success answers. */
function MutatingEndpoint(summary: string, description: string): MethodDecorator {
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
  @MutatingEndpoint('Start a stopped VM', 'Starts a vm.start operation. 423 unless the VM is stopped; 409 VM_BUSY while another operation runs on it.')
  start(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.power(principal, id, 'start', options, res);
  }

  @Post(':id/stop')
  @MutatingEndpoint('Power a running VM off (hard stop)', 'Starts a vm.stop operation. 423 unless the VM is running; 409 VM_BUSY while another operation runs on it.')
  stop(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.power(principal, id, 'stop', options, res);
  }

  private async power(principal: Principal, id: string, action: PowerAction, options: MutationOptions, res: Response) {
    return respondToLaunch(res, await this.vms.power(principal, id, action, options));
  }
}
