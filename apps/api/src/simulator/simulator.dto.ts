import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DRIVER_METHODS } from '@vmops/driver';
import { FAULT_ERRORS, type FaultError } from '@vmops/hypervisor';
import { IsBoolean, IsIn, IsInt, IsNumber, IsString, Max, MaxLength, Min } from 'class-validator';
import { Optional } from '../common/validation';

const METHODS = ['*', ...DRIVER_METHODS];
const METHOD_RULE = `method must be "*" or a driver method: ${DRIVER_METHODS.join(', ')}`;

export class InjectFaultDto {
  @ApiProperty({ enum: METHODS, example: 'attachDisk', description: 'A driver method, or * for all' })
  @IsIn(METHODS, { message: METHOD_RULE })
  method!: string;

  @ApiPropertyOptional({ description: 'Only calls on this node (its id); every node when absent' })
  @Optional()
  @IsString()
  nodeId?: string;

  @ApiPropertyOptional({
    enum: FAULT_ERRORS,
    default: 'unavailable',
    description: 'unavailable is transient (retried); the others are permanent',
  })
  @Optional()
  @IsIn(FAULT_ERRORS)
  error?: FaultError;

  @ApiPropertyOptional({ maxLength: 500 })
  @Optional()
  @IsString()
  @MaxLength(500)
  message?: string;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Calls let through first: 2 makes the 3rd call the first to fail' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  skipCalls?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'How many calls fail before the fault is spent; absent: all of them' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  failCalls?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 1, description: 'Chance that a covered call fails' })
  @Optional()
  @IsNumber()
  @Min(0)
  @Max(1)
  probability?: number;

  @ApiPropertyOptional({
    default: false,
    description: 'The call does its work, then fails (with unavailable: its reply is lost); a retry meets the changed world',
  })
  @Optional()
  @IsBoolean()
  lands?: boolean;
}

export class SetLatencyDto {
  @ApiProperty({ enum: METHODS, example: '*' })
  @IsIn(METHODS, { message: METHOD_RULE })
  method!: string;

  @ApiPropertyOptional({ description: 'Only calls on this node (its id)' })
  @Optional()
  @IsString()
  nodeId?: string;

  @ApiProperty({ minimum: 0, maximum: 600000 })
  @IsInt()
  @Min(0)
  @Max(600_000)
  ms!: number;
}
