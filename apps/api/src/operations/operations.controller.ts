import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { OPERATION_STATUSES, OPERATION_TYPES, type OperationStatus, type OperationType } from '@vmops/contracts';
import { IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import { KeysetPageQuery } from '../common/keyset';
import { OperationsService } from './operations.service';
import { DecimalInt, Optional } from '../common/validation';

class ListOperationsQuery extends KeysetPageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID('all', { message: 'vmId must be a UUID' })
  vmId?: string;

  @ApiPropertyOptional({ enum: OPERATION_TYPES })
  @Optional()
  @IsIn(OPERATION_TYPES)
  type?: OperationType;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES })
  @Optional()
  @IsIn(OPERATION_STATUSES)
  status?: OperationStatus;
}

class WaitQuery {
  @ApiPropertyOptional({
    type: 'integer',
    default: 30,
    minimum: 0,
    maximum: 120,
    description: 'Seconds to wait for the operation to finish',
  })
  @Optional()
  @DecimalInt()
  @IsInt()
  @Min(0)
  @Max(120)
  timeout = 30;
}

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @ApiOperation({
    summary: "List your tenant's operations, newest first",
    description: 'Filter by vmId, type and status; page with limit and cursor (or offset); total=true counts the matches.',
  })
  @ApiOkResponse({ description: "The tenant's operations, newest first" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListOperationsQuery) {
    const { vmId, type, status } = query;
    return this.operations.list(principal, { vmId, type, status }, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one operation: status, steps (with attempts, errors and undos), progress while it runs' })
  @ApiOkResponse({ description: 'The operation, with live progress while it runs' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('operation id')) id: string) {
    return this.operations.get(principal, id);
  }

  @Get(':id/wait')
  @ApiOperation({ summary: 'Long-poll: answers when the operation has finished, or after ?timeout seconds with its state then' })
  wait(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('operation id')) id: string, @Query() query: WaitQuery) {
    return this.operations.wait(principal, id, query.timeout);
  }

  @Post(':id/cancel')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary:
      'Cancel a running operation: the steps it did are undone, and it ends cancelled. 409 OPERATION_FINISHED if it has finished; 409 PAST_POINT_OF_NO_RETURN once it has passed its commit step.',
  })
  @ApiAcceptedResponse({ description: 'The operation, now cancelling' })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('operation id')) id: string) {
    return this.operations.cancel(principal, id);
  }

  @Post(':id/finalize')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      "Finalize a two-phase migration (Gandi finalize_migration): the VM stays on the target and the source's copy is freed. 409 NOT_WAITING_FOR_FINALIZE unless the operation is waiting for it (progress.waiting).",
  })
  @ApiOkResponse({ description: 'The operation, going on from its finalize step' })
  finalize(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('operation id')) id: string) {
    return this.operations.finalize(principal, id);
  }
}
