import { HttpStatus, ParseUUIDPipe } from '@nestjs/common';
import { ApiError } from './api-error';

/** A path id that must be a UUID: anything else is a 400 naming the parameter. */
export const uuidParam = (what: string) =>
  new ParseUUIDPipe({
    exceptionFactory: () => new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${what} must be a UUID`),
  });
