import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { NETWORK_PATTERN } from '@vmops/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsUUID, Matches, Max, Min } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import type { MutationOptions } from '../operations/operations.service';
import { MutatingEndpoint } from '../vms/vms.controller';
import { InterfacesService, MAX_NIC_POSITION } from './interfaces.service';
import { Optional } from '../common/validation';

const NETWORK_RULE = 'network must be lower-case letters, digits and dashes, starting with a letter (at most 32)';

export class AttachInterfaceDto {
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_NIC_POSITION, description: 'Default: the lowest free position' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_NIC_POSITION)
  position?: number;
}

export class CreateInterfaceDto extends AttachInterfaceDto {
  @ApiPropertyOptional({ default: 'public', description: 'The network the interface is on' })
  @Optional()
  @Matches(NETWORK_PATTERN, { message: NETWORK_RULE })
  network?: string;
}

export class ListInterfacesQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID('all', { message: 'vmId must be a UUID' })
  vmId?: string;

  @ApiPropertyOptional({ description: 'true: only detached interfaces (those no VM owns any more included)' })
  @Optional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'detached must be true or false' })
  detached?: boolean;

  @ApiPropertyOptional()
  @Optional()
  @Matches(NETWORK_PATTERN, { message: NETWORK_RULE })
  network?: string;
}

@ApiTags('interfaces')
@ApiBearerAuth()
@Controller('v1')
export class InterfacesController {
  constructor(private readonly interfaces: InterfacesService) {}

  @Get('interfaces')
  @ApiOperation({ summary: 'List your network interfaces, attached or not' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListInterfacesQuery) {
    return this.interfaces.list(p, q);
  }

  @Get('vms/:id/interfaces')
  @ApiOperation({
    summary: "The VM's interfaces, attached and detached, with MAC and network",
    description: '`warnings` says so when none is attached.',
  })
  listOfVm(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.interfaces.listOfVm(p, id);
  }

  @Post('vms/:id/interfaces')
  @MutatingEndpoint(
    'Create a network interface and attach it',
    'Starts a nic.create operation; the VM may run. 409 POSITION_TAKEN; 417 INTERFACE_LIMIT_REACHED.',
  )
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: CreateInterfaceDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.interfaces.create(p, id, dto, o);
  }

  @Post('vms/:id/interfaces/:nicId/attach')
  @MutatingEndpoint(
    'Attach a detached interface',
    "Starts a nic.attach operation for one of the VM's detached interfaces, or one no VM owns on the VM's node (428 NODE_MISMATCH otherwise).",
  )
  async attach(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('nicId', uuidParam('interface id')) nicId: string,
    @Body() dto: AttachInterfaceDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.interfaces.attach(p, id, nicId, dto, o);
  }

  @Post('vms/:id/interfaces/:nicId/detach')
  @MutatingEndpoint(
    "Detach an interface; it stays the VM's",
    'Starts a nic.detach operation. A VM may be left with no interface: allowed, with a warning in the answer.',
  )
  async detach(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('nicId', uuidParam('interface id')) nicId: string,
    @Mutation() o: MutationOptions,
  ) {
    return this.interfaces.detach(p, id, nicId, o);
  }

  @Delete('vms/:id/interfaces/:nicId')
  @MutatingEndpoint(
    'Delete an interface',
    'Starts a nic.delete operation; an attached interface is detached first. Its MAC is gone for good. A warning says when the VM is left with none.',
  )
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('nicId', uuidParam('interface id')) nicId: string,
    @Mutation() o: MutationOptions,
  ) {
    return this.interfaces.delete(p, id, nicId, o);
  }
}
