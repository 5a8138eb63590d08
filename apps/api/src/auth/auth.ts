import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import { hashApiKey } from '@vmops/domain';
import type { ApiKeyRole } from '@vmops/persistence';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { ApiKeyLookup } from './api-key-lookup';

export interface Principal {
  tenantId: string;
  apiKeyId: string;
  role: ApiKeyRole;
}

const PUBLIC = 'vmops:public';
const ADMIN = 'vmops:admin';
/** Marks an endpoint for platform operators: an admin API key, else 403 ADMIN_REQUIRED. */
export const AdminOnly = () => applyDecorators(SetMetadata(ADMIN, true), ApiExtension('x-admin-only', true));
/** Marks an endpoint that needs no API key (health only). */
export const Public = () => SetMetadata(PUBLIC, true);

type AuthedRequest = FastifyRequest & { principal?: Principal };

/** The caller, as authenticated by ApiKeyGuard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route that ApiKeyGuard does not protect');
  return principal;
});

/** `Authorization: Bearer <api key>` on every endpoint not marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyLookup,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      throw new ApiError('UNAUTHENTICATED', 'send your API key as "Authorization: Bearer <key>"');
    }
    const principal = await this.keys.principalOf(hashApiKey(match[1]));
    if (!principal) throw new ApiError('UNAUTHENTICATED', 'the API key is not valid or has been revoked');
    req.principal = principal;
    if (principal.role !== 'admin' && this.reflector.getAllAndOverride<boolean>(ADMIN, [ctx.getHandler(), ctx.getClass()])) {
      throw new ApiError('ADMIN_REQUIRED', 'this endpoint needs an admin API key');
    }
    return true;
  }
}
