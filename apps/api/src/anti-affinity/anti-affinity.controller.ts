import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, IsUUID, Matches, MaxLength, ValidateIf } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import { AntiAffinityService } from './anti-affinity.service';
import { Optional } from '../common/validation';

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GROUP_NAME_RULE = 'name must be 1-64 letters, digits, dots, dashes and underscores, starting with a letter or digit';
/** The most VMs a group holds: at most one per node, so more than any cluster has nodes. */
const MAX_MEMBERS = 256;

export class CreateAntiAffinityGroupDto {
  @ApiProperty({ example: 'db-tier', description: GROUP_NAME_RULE + '; unique within your tenant' })
  @IsString()
  @Matches(GROUP_NAME, { message: GROUP_NAME_RULE })
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    description: 'VMs to put in the group now; they must be on distinct nodes (409 otherwise)',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_MEMBERS)
  @IsUUID('all', { each: true, message: 'vmIds must be UUIDs' })
  vmIds?: string[];
}

export class UpdateAntiAffinityGroupDto {
  @ApiPropertyOptional({ description: GROUP_NAME_RULE })
  @Optional()
  @IsString()
  @Matches(GROUP_NAME, { message: GROUP_NAME_RULE })
  name?: string;

  @ApiPropertyOptional({ type: String, maxLength: 2000, nullable: true, description: 'null clears it' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @MaxLength(2000)
  description?: string | null;
}

export class AddMembersDto {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, example: ['6f1c2d3e-0000-4000-8000-000000000001'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MEMBERS)
  @IsUUID('all', { each: true, message: 'vmIds must be UUIDs' })
  vmIds!: string[];
}

@ApiTags('anti-affinity')
@ApiBearerAuth()
@Controller('v1/anti-affinity-groups')
export class AntiAffinityController {
  constructor(private readonly groups: AntiAffinityService) {}

  @Get()
  @ApiOperation({ summary: 'List your anti-affinity groups with their members and nodes' })
  list(@CurrentPrincipal() p: Principal) {
    return this.groups.list(p);
  }

  @Post()
  @ApiOperation({
    summary: 'Create an anti-affinity group (Gigas segregation)',
    description:
      'VMs of one group never share a node: create (antiAffinityGroupIds), migrate and drain place them apart, and answer 409 ANTI_AFFINITY naming the group and the VM already there when they cannot.',
  })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateAntiAffinityGroupDto) {
    return this.groups.create(p, dto);
  }

  @Get(':id')
  @ApiOperation({ summary: 'An anti-affinity group' })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('group id')) id: string) {
    return this.groups.get(p, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a group or change its description (409 NAME_TAKEN for a name another of your groups has)' })
  update(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('group id')) id: string, @Body() dto: UpdateAntiAffinityGroupDto) {
    return this.groups.update(p, id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a group; its VMs stay where they are' })
  async remove(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('group id')) id: string) {
    await this.groups.delete(p, id);
  }

  @Post(':id/members')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Add VMs to a group',
    description: '409 ANTI_AFFINITY when one would share a node with a member (a migrating VM counts on both its nodes).',
  })
  add(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('group id')) id: string, @Body() dto: AddMembersDto) {
    return this.groups.addMembers(p, id, dto.vmIds);
  }

  @Delete(':id/members/:vmId')
  @ApiOperation({ summary: 'Take a VM out of a group' })
  removeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('group id')) id: string,
    @Param('vmId', uuidParam('VM id')) vmId: string,
  ) {
    return this.groups.removeMember(p, id, vmId);
  }
}
