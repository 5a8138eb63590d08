import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsUUID, Max, Min } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import type { MutationOptions } from '../operations/operations.service';
import { VM_LIMITS } from '../vms/create-vm.dto';
import { MutatingEndpoint } from '../vms/vms.controller';
import { DisksService, MAX_DISK_POSITION } from './disks.service';
import { Optional } from '../common/validation';

export class CreateDiskDto {
  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.diskSizeGb.max, description: 'GB' })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  sizeGb!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DISK_POSITION, description: 'Default: the lowest free position' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_DISK_POSITION)
  position?: number;
}

export class AttachDiskDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_DISK_POSITION,
    description: '0 (VM stopped) swaps with the system disk; default: the lowest free position',
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_DISK_POSITION)
  position?: number;
}

export class ResizeDiskDto {
  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.diskSizeGb.max, description: 'The new size in GB; larger than the current one' })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  sizeGb!: number;
}

export class ListDisksQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID('all', { message: 'vmId must be a UUID' })
  vmId?: string;

  @ApiPropertyOptional({ description: 'true: only detached disks (those no VM owns any more included)' })
  @Optional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'detached must be true or false' })
  detached?: boolean;
}

@ApiTags('disks')
@ApiBearerAuth()
@Controller('v1')
export class DisksController {
  constructor(private readonly disks: DisksService) {}

  @Get('disks')
  @ApiOperation({ summary: 'List your disks, attached or not' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListDisksQuery) {
    return this.disks.list(p, q);
  }

  @Get('vms/:id/disks')
  @ApiOperation({ summary: "The VM's disks, attached and detached" })
  listOfVm(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.disks.listOfVm(p, id);
  }

  @Post('vms/:id/disks')
  @MutatingEndpoint(
    'Create a blank disk and attach it',
    'Starts a disk.create operation. 409 POSITION_TAKEN; 417 INSUFFICIENT_CAPACITY when the node lacks the storage.',
  )
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: CreateDiskDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.disks.create(p, id, dto, o);
  }

  @Post('vms/:id/disks/:diskId/attach')
  @MutatingEndpoint(
    'Attach a detached disk',
    "Starts a disk.attach operation for one of the VM's detached disks, or a disk no VM owns on the VM's node. Position 0 (VM stopped, else 423) swaps it with the system disk, which moves to the lowest free position.",
  )
  async attach(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('diskId', uuidParam('disk id')) diskId: string,
    @Body() dto: AttachDiskDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.disks.attach(p, id, diskId, dto, o);
  }

  @Post('vms/:id/disks/:diskId/detach')
  @MutatingEndpoint(
    "Detach a disk; it stays the VM's",
    'Starts a disk.detach operation. The system disk only from a stopped VM (423 VM_INVALID_STATE).',
  )
  async detach(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('diskId', uuidParam('disk id')) diskId: string,
    @Mutation() o: MutationOptions,
  ) {
    return this.disks.detach(p, id, diskId, o);
  }

  @Post('vms/:id/disks/:diskId/resize')
  @MutatingEndpoint(
    'Grow a disk',
    'Starts a disk.resize operation. A disk only grows (412 otherwise); 417 when the node lacks the storage.',
  )
  async resize(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('diskId', uuidParam('disk id')) diskId: string,
    @Body() dto: ResizeDiskDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.disks.resize(p, id, diskId, dto.sizeGb, o);
  }

  @Delete('vms/:id/disks/:diskId')
  @MutatingEndpoint(
    'Delete a disk and its snapshots',
    'Starts a disk.delete operation; an attached data disk is detached first. The system disk: 423 SYSTEM_DISK.',
  )
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('diskId', uuidParam('disk id')) diskId: string,
    @Mutation() o: MutationOptions,
  ) {
    return this.disks.delete(p, id, diskId, o);
  }
}
