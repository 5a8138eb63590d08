import { HttpException, HttpStatus } from '@nestjs/common';

/** The one error body every endpoint returns. */
export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/**
 * An error meant for the API consumer: its status, a stable machine-readable code and a message that says
 * what to fix. Status codes follow the Erigones API: 400 validation, 401, 404, 409 busy, 412 invalid
 * precondition parameter, 417 expectation failed (limits), 423 not in a usable state, 428 precondition required.
 */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message, status);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError(HttpStatus.NOT_FOUND, 'NOT_FOUND', `${what} ${id} does not exist`, { [`${what.toLowerCase()}Id`]: id });

export const invalidParameter = (field: string, message: string) =>
  new ApiError(HttpStatus.PRECONDITION_FAILED, 'INVALID_PARAMETER', message, { field });
