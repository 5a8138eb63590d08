import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '@vmops/domain';
import { ApiKeyEntity, type ApiKeyRole } from '@vmops/persistence';
import { IsNull, type Repository } from 'typeorm';
import { ApiKeyLookup } from '../auth/api-key-lookup';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';

export interface ApiKeyView {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

function keyView(k: ApiKeyEntity): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.keyPrefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

/** The tenant's API keys. A key is shown once, when it is created; only its hash is stored. */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly lookup: ApiKeyLookup,
  ) {}

  async create(principal: Principal, name: string, role: ApiKeyRole): Promise<ApiKeyView & { key: string }> {
    if (role === 'admin' && principal.role !== 'admin') {
      throw new ApiError('ADMIN_REQUIRED', 'only an admin key may create an admin key');
    }
    const key = generateApiKey();
    const row = await this.keys.save(
      this.keys.create({
        tenantId: principal.tenantId,
        name,
        role,
        keyHash: hashApiKey(key),
        keyPrefix: apiKeyDisplayPrefix(key),
        revokedAt: null,
      }),
    );
    return { ...keyView(row), key };
  }

  async list(principal: Principal): Promise<{ items: ApiKeyView[]; total: number }> {
    const rows = await this.keys.find({ where: { tenantId: principal.tenantId }, order: { createdAt: 'ASC' } });
    return { items: rows.map(keyView), total: rows.length };
  }

  /**
   * Revoked at once: this process forgets the key before answering (other API processes, as its revocation is
   * announced). Revoking a revoked key changes nothing.
   */
  async revoke(principal: Principal, id: string): Promise<void> {
    const result = await this.keys.update({ id, tenantId: principal.tenantId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (result.affected) this.lookup.forget(id);
    if (!result.affected && !(await this.keys.existsBy({ id, tenantId: principal.tenantId }))) throw notFound('API key', id);
  }
}
