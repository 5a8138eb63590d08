import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { ApiKeyRole } from '@vmops/persistence';
import { IsIn, IsString, Length } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import { Optional } from '../common/validation';
import { ApiKeysService } from './api-keys.service';

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

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key for your tenant (an admin key only with an admin key: 403 ADMIN_REQUIRED)' })
  @ApiCreatedResponse({ description: 'The key, in `key`: shown this once' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(principal, dto.name, dto.role ?? 'member');
  }

  @Get()
  @ApiOperation({ summary: "List your tenant's API keys (prefixes only)" })
  list(@CurrentPrincipal() principal: Principal) {
    return this.keys.list(principal);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke an API key: it stops working at once' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('API key id')) id: string): Promise<void> {
    return this.keys.revoke(principal, id);
  }
}
