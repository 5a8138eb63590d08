import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { IsIn } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { MutationOptions } from '../operations/operations.service';
import { ApiError } from './api-error';
import { Optional } from './validation';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `Idempotency-Key` header and `?dryRun=true|false` of a mutating call, validated. */
export const Mutation = createParamDecorator((_: unknown, ctx: ExecutionContext): MutationOptions => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest<{ Querystring: Record<string, unknown> }>>();
  const header = req.headers['idempotency-key'];
  const key = Array.isArray(header) ? header.join(', ') : header;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', {
      fields: [{ field: 'Idempotency-Key', problems: ['must be 1-255 visible ASCII characters'] }],
    });
  }
  const dryRun = req.query.dryRun;
  if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
    throw new ApiError('VALIDATION_FAILED', 'dryRun must be true or false', {
      fields: [{ field: 'dryRun', problems: ['must be true or false'] }],
    });
  }
  return { idempotencyKey: key, dryRun: dryRun === 'true' };
});

/**
 * Base of the query DTOs of mutating endpoints: `dryRun` is read by @Mutation(), and declared here so that the
 * whitelisting validation pipe lets it through.
 */
export class MutationQuery {
  @Optional()
  @IsIn(['true', 'false'], { message: 'dryRun must be true or false' })
  dryRun?: string;
}
