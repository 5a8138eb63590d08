import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import type { OperationView } from '../operations/operation.view';
import { CreateVmDto } from './create-vm.dto';
import { ListVmsQuery } from './list-vms.query';
import { VmsService } from './vms.service';

@ApiTags('vms')
@ApiBearerAuth()
@Controller('v1/vms')
export class VmsController {
  constructor(private readonly vms: VmsService) {}

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

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Create a VM from a template', description: 'Returns the vm.create operation; poll its Location.' })
  @ApiAcceptedResponse({ description: 'The operation, with Location: /v1/operations/{id}' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateVmDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OperationView> {
    const operation = await this.vms.create(principal, dto);
    res.location(operation.links.self);
    return operation;
  }
}
