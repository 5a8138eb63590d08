import { ApiPropertyOptional } from '@nestjs/swagger';
import { VM_STATUSES, type VmStatus } from '@vmops/domain';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../common/page.query';

export class ListVmsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: VM_STATUSES })
  @IsOptional()
  @IsIn(VM_STATUSES)
  status?: VmStatus;
}
