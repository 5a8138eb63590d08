import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { VM_STATUSES, type VmStatus } from '@vmops/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsString, IsUUID, MaxLength } from 'class-validator';
import { KeysetPageQuery } from '../common/keyset';
import { Optional } from '../common/validation';

export const VM_ORDER = [
  'hostname',
  '-hostname',
  'created',
  '-created',
  'status',
  '-status',
  'memory',
  '-memory',
  'cpus',
  '-cpus',
] as const;

/** Filters of GET /v1/vms and GET /v1/vms/count (Gandi vm.list / vm.count, Gigas filters). */
export class VmFilter {
  @ApiPropertyOptional({ enum: VM_STATUSES })
  @Optional()
  @IsIn(VM_STATUSES)
  status?: VmStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID('all', { message: 'nodeId must be a UUID' })
  nodeId?: string;

  @ApiPropertyOptional({ description: 'Hostname contains this (case-insensitive)' })
  @Optional()
  @IsString()
  @MaxLength(63)
  hostname?: string;

  @ApiPropertyOptional({ description: 'Label equals this' })
  @Optional()
  @IsString()
  @MaxLength(100)
  label?: string;
}

export class ListVmsQuery extends IntersectionType(KeysetPageQuery, VmFilter) {
  @ApiPropertyOptional({ default: false, description: "true: add each VM's live status, read from its node (one read per node)" })
  @Optional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'live must be true or false' })
  live?: boolean;

  @ApiPropertyOptional({ enum: VM_ORDER, default: 'hostname' })
  @Optional()
  @IsIn(VM_ORDER)
  orderBy: (typeof VM_ORDER)[number] = 'hostname';
}
