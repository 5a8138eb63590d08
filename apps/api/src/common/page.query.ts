import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { DecimalInt, Optional } from './validation';

/** ?limit=&offset= of every list endpoint. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @Optional()
  @DecimalInt()
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;

  // PostgreSQL takes a bigint; past the largest exact JavaScript integer there is nothing to page to anyway.
  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @DecimalInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset = 0;
}
