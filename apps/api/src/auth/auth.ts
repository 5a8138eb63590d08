import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { hashApiKey } from '@vmops/domain';
import type { ApiKeyRole } from '@vmops/persistence';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error';

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

type AuthedRequest = Request & { principal?: Principal };

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
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      throw new ApiError('UNAUTHENTICATED', 'send your API key as "Authorization: Bearer <key>"');
    }
    const [row] = await this.dataSource.query(`SELECT id, tenant_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [
      hashApiKey(match[1]),
    ]);
    if (!row) throw new ApiError('UNAUTHENTICATED', 'the API key is not valid or has been revoked');
    req.principal = { tenantId: row.tenant_id, apiKeyId: row.id, role: row.role };
    if (row.role !== 'admin' && this.reflector.getAllAndOverride<boolean>(ADMIN, [ctx.getHandler(), ctx.getClass()])) {
      throw new ApiError('ADMIN_REQUIRED', 'this endpoint needs an admin API key');
    }
    return true;
  }
}
