import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { OPERATION_STATUSES, OPERATION_TYPES, type OperationStatus, type OperationType } from '@vmops/contracts';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import { PageQuery } from '../common/page.query';
import { OperationsService } from './operations.service';

class ListOperationsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'vmId must be a UUID' })
  vmId?: string;

  @ApiPropertyOptional({ enum: OPERATION_TYPES })
  @IsOptional()
  @IsIn(OPERATION_TYPES)
  type?: OperationType;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES })
  @IsOptional()
  @IsIn(OPERATION_STATUSES)
  status?: OperationStatus;
}

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @ApiOkResponse({ description: 'The tenant\'s operations, newest first' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListOperationsQuery) {
    const { limit, offset, ...filter } = query;
    return this.operations.list(principal, filter, { limit, offset });
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The operation, with live progress while it runs' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('operation id')) id: string) {
    return this.operations.get(principal, id);
  }
}

