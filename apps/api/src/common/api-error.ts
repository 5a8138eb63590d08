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
