import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HOSTNAME_PATTERN, HOSTNAME_RULE } from '@vmops/domain';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export const VM_LIMITS = { cpus: { min: 1, max: 64 }, memoryMb: { min: 256, max: 524288 }, diskSizeGb: { max: 4096 } };

export class CreateVmDto {
  @ApiProperty({ example: 'web-1', description: HOSTNAME_RULE + '; unique within your tenant' })
  @IsString()
  @Matches(HOSTNAME_PATTERN, { message: HOSTNAME_RULE })
  hostname!: string;

  @ApiProperty({ format: 'uuid', description: 'The template (image) the system disk is created from' })
  @IsUUID('all', { message: 'templateId must be a UUID' })
  templateId!: string;

  @ApiProperty({ minimum: VM_LIMITS.cpus.min, maximum: VM_LIMITS.cpus.max, example: 2 })
  @IsInt()
  @Min(VM_LIMITS.cpus.min)
  @Max(VM_LIMITS.cpus.max)
  cpus!: number;

  @ApiProperty({ minimum: VM_LIMITS.memoryMb.min, maximum: VM_LIMITS.memoryMb.max, example: 2048, description: 'Memory in MB' })
  @IsInt()
  @Min(VM_LIMITS.memoryMb.min)
  @Max(VM_LIMITS.memoryMb.max)
  memoryMb!: number;

  @ApiPropertyOptional({ maximum: VM_LIMITS.diskSizeGb.max, description: "System disk size in GB; default and minimum: the template's" })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  diskSizeGb?: number;

  @ApiPropertyOptional({ maxLength: 100, description: 'A user-friendly description' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Place the VM on this node; by default the node with the most free memory' })
  @IsOptional()
  @IsUUID('all', { message: 'nodeId must be a UUID' })
  nodeId?: string;

  @ApiPropertyOptional({ default: true, description: 'false: create the VM stopped' })
  @IsOptional()
  @IsBoolean()
  start?: boolean;
}
