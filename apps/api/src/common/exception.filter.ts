import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Response } from 'express';
import { isDatabaseUnavailable } from '@vmops/persistence';
import { ApiError } from './api-error';
import { REQUEST_BODY_LIMIT } from './validation';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** Maps every error — ours, Nest's, Temporal's, unexpected ones — to the single JSON error shape. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = this.toApiError(exception);
    res.status(error.getStatus()).json(error.toBody());
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof WorkflowExecutionAlreadyStartedError) {
      return new ApiError(HttpStatus.CONFLICT, 'OPERATION_EXISTS', 'an operation with this workflow id is already running', {
        workflowId: exception.workflowId,
      });
    }
    if (exception instanceof ServiceError || isGrpcServiceError(exception)) {
      this.logger.warn(`Temporal call failed: ${(exception as Error).message}`);
      return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'TEMPORAL_UNAVAILABLE', 'the workflow service did not answer; try again');
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      return new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'DATABASE_UNAVAILABLE',
        'the database did not answer in time; try again (a mutation retried with the same Idempotency-Key is not done twice)',
      );
    }
    // The body parser's refusals (http-errors that may be shown): too large, an unsupported charset or encoding.
    const { status, expose } = exception as { status?: unknown; expose?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
      const message = (exception as Error).message;
      return new ApiError(
        status,
        CODES[status] ?? `HTTP_${status}`,
        status === HttpStatus.PAYLOAD_TOO_LARGE
          ? `${message}: the API takes request bodies of at most ${REQUEST_BODY_LIMIT}`
          : status === HttpStatus.UNSUPPORTED_MEDIA_TYPE
            ? `${message}: send JSON in UTF-8 (Content-Type: application/json)`
            : message,
      );
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body
          ? [body.message].flat().join('; ')
          : exception.message;
      return new ApiError(status, CODES[status] ?? `HTTP_${status}`, String(message));
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return new ApiError(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL_ERROR', 'the server failed to handle the request; it has been logged');
  }
}
