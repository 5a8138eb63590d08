import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { NodeStatus } from '@vmops/persistence';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { Optional } from '../common/validation';

export const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const NAME_RULE = 'must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit';
const NODE_STATUSES: NodeStatus[] = ['online', 'offline', 'maintenance'];

export class CreateNodeDto {
  @ApiProperty({ example: 'node-3' })
  @IsString()
  @Matches(NAME, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiProperty({ example: 'dc1' })
  @IsString()
  @Matches(NAME, { message: `datacenter ${NAME_RULE}` })
  datacenter!: string;

  @ApiProperty({ minimum: 1, maximum: 4096 })
  @IsInt()
  @Min(1)
  @Max(4096)
  cpus!: number;

  @ApiProperty({ minimum: 512, description: 'MB' })
  @IsInt()
  @Min(512)
  @Max(64 * 1024 * 1024)
  memoryMb!: number;

  @ApiProperty({ minimum: 1, description: 'GB' })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  storageGb!: number;

  @ApiPropertyOptional({ enum: NODE_STATUSES, default: 'online' })
  @Optional()
  @IsIn(NODE_STATUSES)
  status?: NodeStatus;
}

export class UpdateNodeDto {
  @ApiPropertyOptional({ enum: NODE_STATUSES, description: 'maintenance or offline: no new VM is placed on the node' })
  @Optional()
  @IsIn(NODE_STATUSES)
  status?: NodeStatus;

  @ApiPropertyOptional({ minimum: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(4096)
  cpus?: number;

  @ApiPropertyOptional({ minimum: 512 })
  @Optional()
  @IsInt()
  @Min(512)
  @Max(64 * 1024 * 1024)
  memoryMb?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  storageGb?: number;
}
