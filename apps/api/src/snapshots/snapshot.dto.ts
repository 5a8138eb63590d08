import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { MutationQuery } from '../common/mutation-options';
import { PageQuery } from '../common/page.query';
import { Optional } from '../common/validation';

/** Erigones' snapshot names: letters, digits, dots, dashes and underscores; unique per disk. */
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_RULE = 'must be 1-64 letters, digits, dots, dashes and underscores, starting with a letter or digit';

export class DiskField {
  @ApiPropertyOptional({ format: 'uuid', description: "The VM's disk; default: its system disk" })
  @Optional()
  @IsUUID('all', { message: 'diskId must be a UUID' })
  diskId?: string;
}

/** ?diskId= (and ?dryRun= on mutations). */
export class DiskSelector extends IntersectionType(MutationQuery, DiskField) {}

export class CreateSnapshotDto extends DiskField {
  @ApiProperty({ example: 'before-upgrade', description: `Unique per disk; ${NAME_RULE}` })
  @IsString()
  @Matches(SNAPSHOT_NAME, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @Optional()
  @IsString()
  @MaxLength(1000)
  note?: string;

  @ApiPropertyOptional({ default: false, description: "Freeze the guest's filesystems while the snapshot is taken (needs a guest agent)" })
  @Optional()
  @IsBoolean()
  fsfreeze?: boolean;
}

export class UpdateSnapshotDto {
  @ApiProperty({ maxLength: 1000 })
  @IsString()
  @MaxLength(1000)
  note!: string;
}

export const SNAPSHOT_ORDER = ['name', '-name', 'disk', '-disk', 'size', '-size', 'created', '-created'] as const;

export class ListSnapshotsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID('all', { message: 'diskId must be a UUID' })
  diskId?: string;

  @ApiPropertyOptional({ enum: ['manual', 'automatic'] })
  @Optional()
  @IsIn(['manual', 'automatic'])
  type?: 'manual' | 'automatic';

  @ApiPropertyOptional({ format: 'uuid', description: 'Only snapshots made by this snapshot definition' })
  @Optional()
  @IsUUID('all', { message: 'definition must be a UUID' })
  definition?: string;

  @ApiPropertyOptional({ enum: SNAPSHOT_ORDER, default: '-created' })
  @Optional()
  @IsIn(SNAPSHOT_ORDER)
  orderBy: (typeof SNAPSHOT_ORDER)[number] = '-created';
}

export class DeleteSnapshotsQuery extends DiskSelector {
  @ApiProperty({
    example: ['a', 'b'],
    description: 'The names of the snapshots to delete: ?names=a&names=b, or comma-separated, ?names=a,b',
  })
  @Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v: string) => v.trim())
          .filter(Boolean)
      : value,
  )
  @IsArray()
  @ArrayMinSize(1, { message: 'names must name at least one snapshot' })
  @ArrayMaxSize(100)
  @Matches(SNAPSHOT_NAME, { each: true, message: `each of names ${NAME_RULE}` })
  names!: string[];
}

export const ROLLBACK_METHODS = ['in_place', 'new_disk'] as const;

export class RollbackSnapshotDto extends DiskField {
  @ApiProperty({
    enum: ROLLBACK_METHODS,
    description:
      'in_place (Erigones): the snapshot is written back over the disk; newer snapshots are lost. new_disk (Gandi disk_rollback): a new disk made from the snapshot replaces the disk, which is deleted, with all its snapshots, once the VM runs on the new one.',
  })
  @IsIn(ROLLBACK_METHODS, { message: `method must be one of ${ROLLBACK_METHODS.join(', ')}` })
  method!: (typeof ROLLBACK_METHODS)[number];

  @ApiPropertyOptional({ default: false, description: 'in_place: delete the snapshots the rollback invalidates instead of refusing (417)' })
  @Optional()
  @IsBoolean()
  force?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'in_place: stop a running VM first (and start it again after) instead of refusing (423)',
  })
  @Optional()
  @IsBoolean()
  stopFirst?: boolean;

  @ApiPropertyOptional({ format: 'uuid', description: "in_place: restore into this VM's disk instead (same node, same size and kind)" })
  @Optional()
  @IsUUID('all', { message: 'targetVmId must be a UUID' })
  targetVmId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'in_place with targetVmId: the disk of the target VM to restore into' })
  @Optional()
  @IsUUID('all', { message: 'targetDiskId must be a UUID' })
  targetDiskId?: string;
}
