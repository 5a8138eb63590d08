import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException, Optional } from '@nestjs/common';
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable, isPoolWaitTimeout } from '@vmops/persistence';
import type { ApiErrorCode } from '@vmops/contracts';
import { ApiError } from './api-error';
import { REQUEST_BODY_LIMIT } from './validation';
import { DATABASE_PROBE_MS, DatabaseNotificationsService } from '../events/database-notifications.service';

/** The Retry-After of every 503. */
const RETRY_AFTER_SECONDS = 2;

/** Statuses Nest and the body parser answer by themselves, and the catalogue's code for each. */
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
    const res = http.getResponse<Response>();
    // A path that exists with other methods: 405 and the methods it takes (Nest answers every unmatched request 404).
    if (exception instanceof NotFoundException) {
      const req = http.getRequest<Request>();
      const allowed = allowedMethods(req);
      if (allowed.length) {
        res.setHeader('Allow', allowed.join(', '));
        const error = new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}; it takes ${allowed.join(', ')}`, {
          allowed,
        });
        res.status(error.getStatus()).json(error.toBody());
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

  private send(res: Response, error: ApiError): void {
    // What is unavailable now (the workflow service, the database, a node's agent) may answer again soon.
    if (error.getStatus() === HttpStatus.SERVICE_UNAVAILABLE) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(error.getStatus()).json(error.toBody());
  }

  private async answerPoolWait(exception: Error, res: Response): Promise<void> {
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
    // The body parser's refusals (http-errors that may be shown): too large, an unsupported charset or encoding.
    const { status, expose } = exception as { status?: unknown; expose?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
      const message = (exception as Error).message;
      return new ApiError(
        this.codeFor(status),
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
      const message = typeof body === 'object' && body !== null && 'message' in body ? [body.message].flat().join('; ') : exception.message;
      return new ApiError(this.codeFor(status), String(message));
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return new ApiError('INTERNAL_ERROR', 'the server failed to handle the request; it has been logged');
  }

  /** The catalogue's code for a status Nest or the body parser answered; any other is logged and answered as a 400 or 500. */
  private codeFor(status: number): ApiErrorCode {
    const code = CODES[status];
    if (code) return code;
    this.logger.warn(`an HTTP ${status} without a code in the error catalogue`);
    return status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
  }
}

interface RouterLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** The methods the app's routes take on this request's path (Express's router, as Nest registered the controllers). */
function allowedMethods(req: Request): string[] {
  const router = (req.app as unknown as { router?: { stack: RouterLayer[] } }).router;
  const methods = new Set<string>();
  for (const layer of router?.stack ?? []) {
    if (!layer.route) continue;
    try {
      if (!layer.match(req.path)) continue;
    } catch {
      continue; // a path that does not decode (%zz) matches nothing
    }
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
