import { ApiPropertyOptional } from '@nestjs/swagger';
import { VM_STATUSES, type VmStatus } from '@vmops/domain';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class PageQuery {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset = 0;
}

export class ListVmsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: VM_STATUSES })
  @IsOptional()
  @IsIn(VM_STATUSES)
  status?: VmStatus;
}
