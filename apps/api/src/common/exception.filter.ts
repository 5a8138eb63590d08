import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException, Optional } from '@nestjs/common';
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable, isPoolWaitTimeout } from '@vmops/persistence';
import type { ApiErrorCode } from '@vmops/contracts';
import { ApiError } from './api-error';
import { pathOf, REQUEST_BODY_LIMIT } from './http-server';
import { DATABASE_PROBE_MS, DatabaseNotificationsService } from '../events/database-notifications.service';

/** The Retry-After of every 503. */
const RETRY_AFTER_SECONDS = 2;

/** Statuses Nest and Fastify answer by themselves (no route, a body too large or not JSON), and the catalogue's code for each. */
const CODES: Partial<Record<number, ApiErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Maps every error — ours, Nest's, Temporal's, unexpected ones — to the single JSON error shape. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(@Optional() private readonly database?: DatabaseNotificationsService) {}

  catch(exception: unknown, host: ArgumentsHost): void | Promise<void> {
    const http = host.switchToHttp();
    const res = http.getResponse<FastifyReply>();
    // A path that exists with other methods: 405 and the methods it takes (Nest answers every unmatched request 404).
    if (exception instanceof NotFoundException) {
      const req = http.getRequest<FastifyRequest>();
      const path = pathOf(req);
      const allowed = req.server.allowedMethods?.(path) ?? [];
      if (allowed.length) {
        res.header('Allow', allowed.join(', '));
        const error = new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; it takes ${allowed.join(', ')}`, {
          allowed,
        });
        void res.status(error.getStatus()).send(error.toBody());
        return;
      }
    }
    // No database connection came free in time: a busy API, or a database that stopped answering (its connections
    // hang). The API's listening connection, outside the pool, tells which.
    if (isPoolWaitTimeout(exception)) {
      return this.answerPoolWait(exception as Error, res);
    }
    this.send(res, this.toApiError(exception));
  }

  private send(res: FastifyReply, error: ApiError): void {
    // What is unavailable now (the workflow service, the database, a node's agent) may answer again soon.
    if (error.getStatus() === HttpStatus.SERVICE_UNAVAILABLE) res.header('Retry-After', String(RETRY_AFTER_SECONDS));
    void res.status(error.getStatus()).send(error.toBody());
  }

  private async answerPoolWait(exception: Error, res: FastifyReply): Promise<void> {
    const answers = await (this.database?.answers(DATABASE_PROBE_MS) ?? Promise.resolve(false)).catch(() => false);
    this.logger.warn(
      `no database connection came free in time (${exception.message}); the database ${answers ? 'answers' : 'does not answer'}`,
    );
    this.send(
      res,
      answers
        ? new ApiError(
            'API_BUSY',
            'no database connection came free in time, while the database answers: the API is busy with other requests; try again (a mutation retried with the same Idempotency-Key is not done twice)',
          )
        : new ApiError(
            'DATABASE_UNAVAILABLE',
            'no database connection came free in time, and the database does not answer; try again (a mutation retried with the same Idempotency-Key is not done twice)',
          ),
    );
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof WorkflowExecutionAlreadyStartedError) {
      return new ApiError('OPERATION_EXISTS', 'an operation with this workflow id is already running', {
        workflowId: exception.workflowId,
      });
    }
    if (exception instanceof ServiceError || isGrpcServiceError(exception)) {
      this.logger.warn(`Temporal call failed: ${(exception as Error).message}`);
      return new ApiError('TEMPORAL_UNAVAILABLE', 'the workflow service did not answer; try again');
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      return new ApiError(
        'DATABASE_UNAVAILABLE',
        'the database did not answer in time; try again (a mutation retried with the same Idempotency-Key is not done twice)',
      );
    }
    // Nest's own refusals, and Fastify's as Nest hands them on (the body too large, a media type the API does not read).
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'object' && body !== null && 'message' in body ? [body.message].flat().join('; ') : exception.message;
      return new ApiError(
        this.codeFor(status),
        status === HttpStatus.PAYLOAD_TOO_LARGE
          ? `${message}: the API takes request bodies of at most ${REQUEST_BODY_LIMIT}`
          : status === HttpStatus.UNSUPPORTED_MEDIA_TYPE
            ? `${message}: send JSON in UTF-8 (Content-Type: application/json)`
            : String(message),
      );
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return new ApiError('INTERNAL_ERROR', 'the server failed to handle the request; it has been logged');
  }

  /** The catalogue's code for a status Nest or Fastify answered; any other is logged and answered as a 400 or 500. */
  private codeFor(status: number): ApiErrorCode {
    const code = CODES[status];
    if (code) return code;
    this.logger.warn(`an HTTP ${status} without a code in the error catalogue`);
    return status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
  }
}
