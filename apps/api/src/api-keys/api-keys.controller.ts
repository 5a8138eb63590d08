import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '@vmops/domain';
import { ApiKeyEntity, type ApiKeyRole } from '@vmops/persistence';
import { IsIn, IsString, Length } from 'class-validator';
import { IsNull, type Repository } from 'typeorm';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { uuidParam } from '../common/params';
import { Optional } from '../common/validation';

class CreateApiKeyDto {
  @ApiProperty({ example: 'ci pipeline' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ enum: ['member', 'admin'], default: 'member', description: 'admin: only an admin key may create one' })
  @Optional()
  @IsIn(['member', 'admin'])
  role?: ApiKeyRole;
}

function keyView(k: ApiKeyEntity) {
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
@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key for your tenant (an admin key only with an admin key: 403 ADMIN_REQUIRED)' })
  @ApiCreatedResponse({ description: 'The key, in `key`: shown this once' })
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto) {
    const role = dto.role ?? 'member';
    if (role === 'admin' && principal.role !== 'admin') {
      throw new ApiError('ADMIN_REQUIRED', 'only an admin key may create an admin key');
    }
    const key = generateApiKey();
    const row = await this.keys.save(
      this.keys.create({
        tenantId: principal.tenantId,
        name: dto.name,
        role,
        keyHash: hashApiKey(key),
        keyPrefix: apiKeyDisplayPrefix(key),
        revokedAt: null,
      }),
    );
    return { ...keyView(row), key };
  }

  @Get()
  @ApiOperation({ summary: "List your tenant's API keys (prefixes only)" })
  async list(@CurrentPrincipal() principal: Principal) {
    const rows = await this.keys.find({ where: { tenantId: principal.tenantId }, order: { createdAt: 'ASC' } });
    return { items: rows.map(keyView), total: rows.length };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke an API key: it stops working at once' })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('API key id')) id: string): Promise<void> {
    const result = await this.keys.update({ id, tenantId: principal.tenantId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!result.affected && !(await this.keys.existsBy({ id, tenantId: principal.tenantId }))) throw notFound('API key', id);
  }
}
