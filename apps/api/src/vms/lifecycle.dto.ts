import { ApiProperty, ApiPropertyOptional, IntersectionType, PartialType, PickType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { MutationQuery } from '../common/mutation-options';
import { CreateVmDto, VM_LIMITS } from './create-vm.dto';
import { Optional } from '../common/validation';

/** A two-phase migration finalizes by itself after an hour unless told otherwise; a day at most. */
export const DEFAULT_FINALIZE_TIMEOUT_SECONDS = 3600;
export const MAX_FINALIZE_TIMEOUT_SECONDS = 24 * 3600;

/** cpus, memoryMb, label and note as on create, all optional; `apply` for a running VM. */
export class UpdateVmDto extends PartialType(PickType(CreateVmDto, ['cpus', 'memoryMb', 'label', 'note'] as const)) {
  @ApiPropertyOptional({
    enum: ['restart', 'next_stop'],
    description:
      'For a running VM: restart it now to apply cpus/memory, or apply them when it next stops. A stopped VM is resized at once.',
  })
  @Optional()
  @IsIn(['restart', 'next_stop'])
  apply?: 'restart' | 'next_stop';
}

export class RebuildVmDto {
  @ApiPropertyOptional({ format: 'uuid', description: "The template to rebuild from; default: the VM's own" })
  @Optional()
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId?: string;

  @ApiPropertyOptional({ default: true, description: 'false: leave the VM stopped once rebuilt (Gigas required_startup)' })
  @Optional()
  @IsBoolean()
  startAfter?: boolean;
}

export class DeleteVmQuery extends MutationQuery {
  @ApiPropertyOptional({
    default: false,
    description:
      'true: delete every disk of the VM. Default (Gandi): the system disk and the first interface go, the other disks and interfaces are detached and kept.',
  })
  @Optional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'deleteAllDisks must be true or false' })
  deleteAllDisks?: boolean;
}

export class MigrateVmDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The node to move to; default: the eligible node that keeps the most memory free' })
  @Optional()
  @IsUUID('all', { message: 'targetNodeId must be a UUID' })
  targetNodeId?: string;

  @ApiPropertyOptional({
    enum: ['live', 'cold'],
    description:
      'live: copied while it runs, a pause only at the switch-over (running VMs only). cold: stopped, copied, started on the target. Default: live for a running VM, cold for a stopped one.',
  })
  @Optional()
  @IsIn(['live', 'cold'])
  mode?: 'live' | 'cold';

  @ApiPropertyOptional({
    default: true,
    description:
      'false (Gandi finalize_migration): after the switch-over the operation waits, the source keeping its copy, until POST /v1/operations/{id}/finalize or finalizeTimeoutSeconds; a cancel meanwhile moves the VM back.',
  })
  @Optional()
  @IsBoolean()
  finalize?: boolean;

  @ApiPropertyOptional({
    minimum: 10,
    maximum: MAX_FINALIZE_TIMEOUT_SECONDS,
    default: DEFAULT_FINALIZE_TIMEOUT_SECONDS,
    description: 'With finalize false: seconds after which the migration finalizes by itself',
  })
  @Optional()
  @IsInt()
  @Min(10)
  @Max(MAX_FINALIZE_TIMEOUT_SECONDS)
  finalizeTimeoutSeconds?: number;
}

export class MigrationCheckQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Judge this node only; default: every node' })
  @Optional()
  @IsUUID('all', { message: 'targetNodeId must be a UUID' })
  targetNodeId?: string;

  @ApiPropertyOptional({ enum: ['live', 'cold'], description: 'Default: live for a running VM, cold for a stopped one' })
  @Optional()
  @IsIn(['live', 'cold'])
  mode?: 'live' | 'cold';
}

export class CloneDiskSizeDto {
  @ApiProperty({ minimum: 0, maximum: 15, description: "The source disk's position" })
  @IsInt()
  @Min(0)
  @Max(15)
  position!: number;

  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.diskSizeGb.max, description: "GB; at least the source disk's size" })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  sizeGb!: number;
}

/** Gigas clone: a new VM from a source VM's disks; hostname required, the rest defaults to the source's. */
export class CloneVmDto extends IntersectionType(
  PickType(CreateVmDto, ['hostname'] as const),
  PartialType(PickType(CreateVmDto, ['cpus', 'memoryMb', 'label', 'note', 'nodeId', 'antiAffinityGroupIds'] as const)),
) {
  @ApiPropertyOptional({ type: [CloneDiskSizeDto], maxItems: 16, description: 'Larger sizes for some disks of the clone, by position' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => CloneDiskSizeDto)
  disks?: CloneDiskSizeDto[];

  @ApiPropertyOptional({ default: false, description: 'true: start the clone once it is built' })
  @Optional()
  @IsBoolean()
  start?: boolean;
}
