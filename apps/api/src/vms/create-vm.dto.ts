import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HOSTNAME_PATTERN, HOSTNAME_RULE, NETWORK_PATTERN, ROOT_PASSWORD_PATTERN, ROOT_PASSWORD_RULE } from '@vmops/domain';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Optional } from '../common/validation';

export const VM_LIMITS = { cpus: { min: 1, max: 64 }, memoryMb: { min: 256, max: 524288 }, diskSizeGb: { max: 4096 } };

export class DataDiskDto {
  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.diskSizeGb.max, description: 'GB' })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  sizeGb!: number;
}

export class CreateVmDto {
  @ApiProperty({
    example: 'web-1',
    pattern: HOSTNAME_PATTERN.source,
    description: HOSTNAME_RULE + '; unique within your tenant, case-insensitively',
  })
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
  @Optional()
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.diskSizeGb.max)
  diskSizeGb?: number;

  @ApiPropertyOptional({ maxLength: 100, description: 'A user-friendly description' })
  @Optional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  note?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Place the VM on this node; by default the node with the most free memory' })
  @Optional()
  @IsUUID('all', { message: 'nodeId must be a UUID' })
  nodeId?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: 8,
    description:
      'Anti-affinity groups the VM joins: it is placed on no node where a VM of any of them is (409 ANTI_AFFINITY when only such nodes have room, or nodeId names one)',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(8)
  @IsUUID('all', { each: true, message: 'antiAffinityGroupIds must be UUIDs' })
  antiAffinityGroupIds?: string[];

  @ApiPropertyOptional({ default: true, description: 'false: create the VM stopped' })
  @Optional()
  @IsBoolean()
  start?: boolean;

  @ApiPropertyOptional({ type: [DataDiskDto], maxItems: 7, description: 'Blank data disks, attached at positions 1, 2, …' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(7)
  @ValidateNested({ each: true })
  @Type(() => DataDiskDto)
  dataDisks?: DataDiskDto[];

  @ApiPropertyOptional({ default: 'public', description: "The network of the VM's first interface" })
  @Optional()
  @IsString()
  @Matches(NETWORK_PATTERN, { message: 'network must be lower-case letters, digits and dashes, starting with a letter' })
  network?: string;

  @ApiPropertyOptional({
    description: 'Initial root password (Gigas rule: 6-32 letters, digits, - and _); only a hash reaches the node, none is stored',
  })
  @Optional()
  @IsString()
  @Matches(ROOT_PASSWORD_PATTERN, { message: ROOT_PASSWORD_RULE })
  rootPassword?: string;
}
