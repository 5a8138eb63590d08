import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { VM_LIMITS } from './create-vm.dto';

export class UpdateVmDto {
  @ApiPropertyOptional({ minimum: VM_LIMITS.cpus.min, maximum: VM_LIMITS.cpus.max })
  @IsOptional()
  @IsInt()
  @Min(VM_LIMITS.cpus.min)
  @Max(VM_LIMITS.cpus.max)
  cpus?: number;

  @ApiPropertyOptional({ minimum: VM_LIMITS.memoryMb.min, maximum: VM_LIMITS.memoryMb.max, description: 'MB' })
  @IsOptional()
  @IsInt()
  @Min(VM_LIMITS.memoryMb.min)
  @Max(VM_LIMITS.memoryMb.max)
  memoryMb?: number;

  @ApiPropertyOptional({
    enum: ['restart', 'next_stop'],
    description: 'For a running VM: restart it now to apply cpus/memory, or apply them when it next stops. A stopped VM is resized at once.',
  })
  @IsOptional()
  @IsIn(['restart', 'next_stop'])
  apply?: 'restart' | 'next_stop';

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
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

export class DeleteVmQuery {
  @ApiPropertyOptional({
    default: false,
    description: 'true: delete every disk of the VM. Default (Gandi): the system disk and the first interface go, the other disks and interfaces are detached and kept.',
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'deleteAllDisks must be true or false' })
  deleteAllDisks?: boolean;
}
