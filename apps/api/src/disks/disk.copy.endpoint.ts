import { OPERATIONS } from '@vmops/catalogue';
import { Body, Controller, Injectable, Module, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { diskOfVm, insertDetachedDisk } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import { Optional } from '../common/validation';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput } from '../operations/vm-lock.service';
import { VM_LIMITS } from '../vms/create-vm.dto';
import { MutatingEndpoint } from '../vms/vms.controller';
import { assertStorageFits, freeDiskPosition, MAX_DISK_POSITION } from './disks.service';

export class CopyDiskDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_DISK_POSITION,
    description: 'Where the copy is attached; default: the lowest free position. Ignored with detached=true.',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_DISK_POSITION)
  position?: number;

  @ApiPropertyOptional({ description: "true: the copy stays detached (the VM's, attachable later)" })
  @Optional()
  @IsBoolean()
  detached?: boolean;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: VM_LIMITS.diskSizeGb.max,
    description: "The copy's size in GB; default: the source's; never smaller",
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  sizeGb?: number;

  @ApiPropertyOptional({ description: "A running VM's filesystems are frozen while the source is captured (needs a guest agent)" })
  @Optional()
  @IsBoolean()
  fsfreeze?: boolean;
}

@Injectable()
export class CopyDiskService {
  constructor(
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  launch(principal: Principal, vmId: string, diskId: string, dto: CopyDiskDto, options: MutationOptions): Promise<LaunchResult> {
    return this.operations.launch(
      {
        principal,
        operation: OPERATIONS['disk.copy'],
        request: { vmId, diskId, ...dto },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'copy the disks of');
          const source = await diskOfVm(tx, vmId, diskId);
          if (!source) throw notFound('disk', diskId);
          const sizeGb = dto.sizeGb ?? source.sizeGb;
          if (sizeGb < source.sizeGb) {
            throw new ApiError('INVALID_PARAMETER', `disk ${diskId} is ${source.sizeGb} GB; a copy is at least as large`, {
              field: 'sizeGb',
              sizeGb: source.sizeGb,
            });
          }
          const position = dto.detached ? null : await freeDiskPosition(tx, vm, dto.position);
          await assertStorageFits(tx, vm.nodeId, sizeGb);
          const copyId = randomUUID();
          // Recorded detached until the operation has made it, so its storage counts against the node at once.
          await insertDetachedDisk(tx, {
            id: copyId,
            tenantId: principal.tenantId,
            nodeId: vm.nodeId,
            vmId,
            sizeGb,
            templateId: source.templateId,
          });
          return {
            vm,
            input: {
              ...vmOperationInput(operationId, vm),
              source: { diskId, sizeGb: source.sizeGb },
              copy: { diskId: copyId, sizeGb, position },
              snapshotId: randomUUID(),
              // Nothing runs in a stopped VM to freeze.
              fsfreeze: (dto.fsfreeze ?? false) && vm.status === 'running',
            },
            reservations: { diskIds: [copyId] },
          };
        },
      },
      options,
    );
  }
}

@ApiTags('disks')
@ApiBearerAuth()
@Controller('v1/vms')
export class CopyDiskController {
  constructor(private readonly service: CopyDiskService) {}

  @Post(':id/disks/:diskId/copy')
  @MutatingEndpoint(
    'Copy a disk of the VM into a new disk of the VM (Gandi disk.create_from)',
    "Starts a disk.copy operation: a snapshot of the disk, a new disk from it (the source untouched), attached at position (or detached). 404 for a disk not the VM's; 412 INVALID_PARAMETER for a sizeGb below the source's; 409 POSITION_TAKEN; 417 INSUFFICIENT_CAPACITY when the node lacks the storage.",
  )
  copyDisk(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('diskId', uuidParam('disk id')) diskId: string,
    @Body() dto: CopyDiskDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.service.launch(p, id, diskId, dto, o);
  }
}

@Module({ controllers: [CopyDiskController], providers: [CopyDiskService] })
export class CopyDiskModule {}
