import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { OsFamily } from '@vmops/persistence';
import { IsBoolean, IsIn, IsInt, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError } from '../common/api-error';
import { Mutation } from '../common/mutation-options';
import { uuidParam } from '../common/params';
import { NAME, NAME_RULE } from '../catalog/catalog.dto';
import type { MutationOptions } from '../operations/operations.service';
import { NO_CONTENT } from '../operations/launch-response';
import { MutatingEndpoint } from '../vms/vms.controller';
import { TemplatesService } from './templates.service';
import { Optional } from '../common/validation';

/**
 * One body for both ways a template comes to be: from a VM (`vmId`: any key, an operation) or as a base template
 * (`osFamily` and `diskSizeGb`: an admin key, at once).
 */
export class CreateTemplateDto {
  @ApiProperty({ example: 'web-golden' })
  @IsString()
  @Matches(NAME, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "A VM of yours: its system disk becomes the template's image (template.create, 202)",
  })
  @Optional()
  @IsUUID('all', { message: 'vmId must be a UUID' })
  vmId?: string;

  @ApiPropertyOptional({
    default: false,
    description: 'With vmId, for a running VM: freeze its filesystems while its disk is captured (needs its guest agent)',
  })
  @Optional()
  @IsBoolean()
  fsfreeze?: boolean;

  @ApiPropertyOptional({ enum: ['linux', 'windows'], description: 'A base template (admin key): its OS family' })
  @Optional()
  @IsIn(['linux', 'windows'])
  osFamily?: OsFamily;

  @ApiPropertyOptional({ minimum: 1, maximum: 4096, description: 'A base template (admin key): its system disk size in GB' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(4096)
  diskSizeGb?: number;

  @ApiPropertyOptional({ maxLength: 1000 })
  @Optional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

function refuseMixed(dto: CreateTemplateDto): void {
  const fields = dto.vmId
    ? (['osFamily', 'diskSizeGb'] as const).filter((f) => dto[f] !== undefined)
    : dto.fsfreeze !== undefined
      ? ['fsfreeze']
      : [];
  const missing = dto.vmId ? [] : (['osFamily', 'diskSizeGb'] as const).filter((f) => dto[f] === undefined);
  if (fields.length || missing.length) {
    throw new ApiError(
      'VALIDATION_FAILED',
      dto.vmId
        ? `${fields.join(' and ')} apply to base templates: a template from a VM takes them from the VM`
        : missing.length
          ? `give vmId (a template from your VM), or osFamily and diskSizeGb (a base template, admin)`
          : 'fsfreeze applies to a template from a VM (vmId)',
      { fields: [...fields, ...missing].map((field) => ({ field, problems: [dto.vmId ? 'not with vmId' : 'required without vmId'] })) },
    );
  }
}

@ApiTags('templates')
@ApiBearerAuth()
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Get()
  @ApiOperation({ summary: 'The templates you can build VMs from: the base ones and your own' })
  list(@CurrentPrincipal() p: Principal) {
    return this.templates.list(p);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A template' })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('template id')) id: string) {
    return this.templates.get(p, id);
  }

  @Post()
  @MutatingEndpoint(
    'Make a template from a VM (or add a base template, admin)',
    "With vmId: starts a template.create operation that captures the VM's system disk — stopped, or running with fsfreeze (423 VM_INVALID_STATE otherwise) — as a template only your tenant sees, ready when the operation succeeds. With osFamily and diskSizeGb (admin key): a base template, 201 (403 ADMIN_REQUIRED without an admin key). 404 NOT_FOUND for a vmId that is not one of your VMs; 409 NAME_TAKEN.",
  )
  @ApiCreatedResponse({ description: 'A base template, added at once' })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTemplateDto, @Mutation() o: MutationOptions) {
    refuseMixed(dto);
    if (dto.vmId)
      return this.templates.createFromVm(p, { name: dto.name, vmId: dto.vmId, fsfreeze: dto.fsfreeze, description: dto.description }, o);
    if (p.role !== 'admin')
      throw new ApiError('ADMIN_REQUIRED', 'base templates are added with an admin key; a template from your VM takes vmId');
    return this.templates.createBase({
      name: dto.name,
      osFamily: dto.osFamily!,
      diskSizeGb: dto.diskSizeGb!,
      description: dto.description,
    });
  }

  @Delete(':id')
  @MutatingEndpoint(
    'Delete a template',
    'Your own: starts a template.delete operation (its image goes). A base one: admin key (403 ADMIN_REQUIRED otherwise), at once (204). 409 TEMPLATE_IN_USE naming the VMs built from it.',
  )
  @ApiNoContentResponse({ description: 'A base template, deleted at once' })
  async remove(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('template id')) id: string, @Mutation() o: MutationOptions) {
    const launched = await this.templates.delete(p, id, o);
    return launched ?? NO_CONTENT;
  }
}
