import { HttpException } from '@nestjs/common';
import { API_ERRORS, type ApiErrorCode } from '@vmops/contracts';

/** The one error body every endpoint returns. */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; details: Record<string, unknown> };
}

/**
 * An error meant for the API consumer: a code of the error catalogue (`API_ERRORS`, which gives its HTTP status), a
 * message that says what to fix, and details. Status codes follow the Erigones API: 400 validation, 401, 404, 409
 * busy, 412 invalid precondition parameter, 417 expectation failed (limits), 423 not in a usable state, 428
 * precondition required.
 */
export class ApiError extends HttpException {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message, API_ERRORS[code].status);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError('NOT_FOUND', `${what} ${id} does not exist`, { [`${what.toLowerCase()}Id`]: id });

export const invalidParameter = (field: string, message: string) => new ApiError('INVALID_PARAMETER', message, { field });

/** PostgreSQL's unique_violation (TypeORM's QueryFailedError keeps the driver's code, and copies it onto itself). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | null;
  return e?.driverError?.code === '23505' || e?.code === '23505';
}
