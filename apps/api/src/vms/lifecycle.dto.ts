import { ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsUUID } from 'class-validator';
import { MutationQuery } from '../common/mutation-options';
import { CreateVmDto } from './create-vm.dto';

/** cpus, memoryMb, label and note as on create, all optional; `apply` for a running VM. */
export class UpdateVmDto extends PartialType(PickType(CreateVmDto, ['cpus', 'memoryMb', 'label', 'note'] as const)) {
  @ApiPropertyOptional({
    enum: ['restart', 'next_stop'],
    description: 'For a running VM: restart it now to apply cpus/memory, or apply them when it next stops. A stopped VM is resized at once.',
  })
  @IsOptional()
  @IsIn(['restart', 'next_stop'])
  apply?: 'restart' | 'next_stop';
}

export class RebuildVmDto {
  @ApiPropertyOptional({ format: 'uuid', description: "The template to rebuild from; default: the VM's own" })
  @IsOptional()
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId?: string;

  @ApiPropertyOptional({ default: true, description: 'false: leave the VM stopped once rebuilt (Gigas required_startup)' })
  @IsOptional()
  @IsBoolean()
  startAfter?: boolean;
}

export class DeleteVmQuery extends MutationQuery {
  @ApiPropertyOptional({
    default: false,
    description: 'true: delete every disk of the VM. Default (Gandi): the system disk and the first interface go, the other disks and interfaces are detached and kept.',
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'deleteAllDisks must be true or false' })
  deleteAllDisks?: boolean;
}
