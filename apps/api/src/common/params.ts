import { ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error';

/** A path id that must be a UUID: anything else is a 400 naming the parameter. */
export const uuidParam = (what: string) =>
  new ParseUUIDPipe({
    exceptionFactory: () => new ApiError('VALIDATION_FAILED', `${what} must be a UUID`),
  });

/** A path id that must be a positive integer a PostgreSQL `integer` holds (a serial id): anything else is a 400. */
export const serialParam = (what: string): PipeTransform<string, number> => ({
  transform(value: string): number {
    const id = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
    if (!(id <= 2_147_483_647)) throw new ApiError('VALIDATION_FAILED', `${what} must be a positive integer (at most 2147483647)`);
    return id;
  },
});

/** A name in a path (a snapshot's, a definition's): 412 on `name` unless it matches `pattern`, saying what it must be. */
export function checkedName(value: string, pattern: RegExp, what: string, rule: string): string {
  if (!pattern.test(value)) throw new ApiError('INVALID_PARAMETER', `"${value}" is not a ${what} name: it ${rule}`, { field: 'name' });
  return value;
}
