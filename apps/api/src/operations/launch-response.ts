import { HttpStatus, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';
import type { LaunchResult } from './operations.service';

/** A handler's answer for "done, nothing to show": 204 (a base template deleted at once). */
export const NO_CONTENT = Symbol('204 No Content');

function isLaunchResult(value: unknown): value is LaunchResult & { warnings?: string[] } {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof value === 'object' && value !== null && (kind === 'started' || kind === 'replayed' || kind === 'dryRun');
}

/**
 * What a mutating handler returns, answered as the API documents it: a started (or replayed) operation is 202 with
 * its address in Location, a dry run's plan 200; `warnings` (a change allowed but worth a second look) ride along in
 * either body. Handlers return the service's LaunchResult and never touch the response themselves.
 */
@Injectable()
export class LaunchResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((value: unknown) => {
        const res = context.switchToHttp().getResponse<FastifyReply>();
        if (value === NO_CONTENT) {
          res.status(HttpStatus.NO_CONTENT);
          return undefined;
        }
        if (!isLaunchResult(value)) return value;
        const warnings = value.warnings?.length ? { warnings: value.warnings } : {};
        if (value.kind === 'dryRun') {
          res.status(HttpStatus.OK);
          return { ...value.plan, ...warnings };
        }
        res.status(HttpStatus.ACCEPTED).header('Location', value.operation.links.self);
        return { ...value.operation, ...warnings };
      }),
    );
  }
}
