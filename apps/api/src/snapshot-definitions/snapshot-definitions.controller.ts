import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { checkedName, uuidParam } from '../common/params';
import { DiskField } from '../snapshots/snapshot.dto';
import { PREDEFINED, SnapshotDefinitionsService, type OnBusy } from './snapshot-definitions.service';
import { Optional } from '../common/validation';

/** A definition's name is the prefix of its snapshots' names (`daily-20261130-053000`): no dots, at most 32. */
const DEFINITION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const NAME_RULE = 'must be 1-32 letters, digits, dashes and underscores, starting with a letter or digit';
const PRESETS = Object.entries(PREDEFINED)
  .map(([name, p]) => `${name} (${p.schedule}, keeping ${p.retention})`)
  .join(', ');

class DefinitionFieldsDto {
  @ApiPropertyOptional({
    example: '30 4 * * 6',
    description: `Five-field cron in UTC (minute hour day-of-month month day-of-week). Predefined names have defaults: ${PRESETS}`,
  })
  @Optional()
  @IsString()
  @MaxLength(200)
  schedule?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    description: 'The most automatic snapshots of this definition kept; the oldest beyond it are deleted after each run',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1000)
  retention?: number;

  @ApiPropertyOptional({ default: true, description: 'false: the schedule is paused' })
  @Optional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: "Freeze the guest's filesystems while the snapshot is taken (needs the guest agent)",
  })
  @Optional()
  @IsBoolean()
  fsfreeze?: boolean;

  @ApiPropertyOptional({
    enum: ['skip', 'retry'],
    default: 'retry',
    description: 'A run that finds the VM busy: skip it, or try again every SNAPSHOT_BUSY_RETRY_SECONDS',
  })
  @Optional()
  @IsIn(['skip', 'retry'], { message: 'onBusy must be skip or retry' })
  onBusy?: OnBusy;

  @ApiPropertyOptional({ type: String, maxLength: 1000, nullable: true })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @MaxLength(1000)
  description?: string | null;
}

export class CreateSnapshotDefinitionDto extends DefinitionFieldsDto {
  @ApiProperty({ example: 'daily', description: `Unique per disk; ${NAME_RULE}. Predefined: ${Object.keys(PREDEFINED).join(', ')}` })
  @IsString()
  @Matches(DEFINITION_NAME, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ format: 'uuid', description: "The VM's disk; default: its system disk" })
  @Optional()
  @IsUUID('all', { message: 'diskId must be a UUID' })
  diskId?: string;
}

export class UpdateSnapshotDefinitionDto extends DefinitionFieldsDto {}

const definitionName = (name: string) => checkedName(name, DEFINITION_NAME, 'snapshot definition', NAME_RULE);

/** Snapshot definitions of a VM's disks (Erigones define/snapshot), each run by a Temporal Schedule. */
@ApiTags('snapshots')
@ApiBearerAuth()
@Controller('v1/vms/:id/snapshot-definitions')
export class SnapshotDefinitionsController {
  constructor(private readonly definitions: SnapshotDefinitionsService) {}

  @Get()
  @ApiOperation({ summary: "List the VM's snapshot definitions", description: '?diskId= for one disk.' })
  list(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Query() q: DiskField) {
    return this.definitions.list(p, id, q.diskId);
  }

  @Post()
  @ApiOperation({
    summary: 'Define scheduled snapshots of a disk',
    description:
      "A Temporal Schedule (visible in the Temporal UI) takes a snapshot at each cron time (UTC) as a snapshot.create operation, named <definition>-<YYYYMMDD-HHMMSS>, type automatic, then deletes the definition's automatic snapshots beyond retention, oldest first. 409 NAME_TAKEN; 412 for a disk the VM does not have.",
  })
  create(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Body() dto: CreateSnapshotDefinitionDto) {
    return this.definitions.create(p, id, dto);
  }

  @Get(':name')
  @ApiOperation({ summary: 'A snapshot definition, with when it runs next' })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Param('name') name: string, @Query() q: DiskField) {
    return this.definitions.get(p, id, definitionName(name), q.diskId);
  }

  @Patch(':name')
  @ApiOperation({
    summary: 'Change a definition: schedule, retention, active (pauses or resumes its schedule), fsfreeze, onBusy, description',
  })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Query() q: DiskField,
    @Body() dto: UpdateSnapshotDefinitionDto,
  ) {
    return this.definitions.update(p, id, definitionName(name), q.diskId, dto);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a definition and its schedule; the snapshots it took stay' })
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Query() q: DiskField,
  ) {
    await this.definitions.delete(p, id, definitionName(name), q.diskId);
  }

  @Post(':name/run')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Run a definition now, as its schedule would',
    description:
      "The run appears among the schedule's recent actions and starts its operations like a scheduled one. 423 DEFINITION_INACTIVE.",
  })
  run(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Param('name') name: string, @Query() q: DiskField) {
    return this.definitions.runNow(p, id, definitionName(name), q.diskId);
  }
}
