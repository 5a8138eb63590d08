import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { checkedName, uuidParam } from '../common/params';
import type { MutationOptions } from '../operations/operations.service';
import { MutatingEndpoint } from '../vms/vms.controller';
import {
  CreateSnapshotDto,
  DeleteSnapshotsQuery,
  DiskSelector,
  ListSnapshotsQuery,
  RollbackSnapshotDto,
  SNAPSHOT_NAME,
  UpdateSnapshotDto,
} from './snapshot.dto';
import { SnapshotsService } from './snapshots.service';

const snapshotName = (name: string) => checkedName(name, SNAPSHOT_NAME, 'snapshot', 'has letters, digits, dots, dashes and underscores');

/** Snapshots of a VM's disks. A snapshot is named per disk; `diskId` (default: the system disk) picks the disk. */
@ApiTags('snapshots')
@ApiBearerAuth()
@Controller('v1/vms/:id/snapshots')
export class SnapshotsController {
  constructor(private readonly snapshots: SnapshotsService) {}

  @Get()
  @ApiOperation({
    summary: "List the VM's snapshots",
    description: 'Filters: diskId, type (manual, automatic), definition; orderBy name, disk, size or created (- for descending).',
  })
  list(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Query() q: ListSnapshotsQuery) {
    return this.snapshots.list(p, id, q);
  }

  @Post()
  @MutatingEndpoint(
    'Snapshot a disk of the VM',
    'Starts a snapshot.create operation. 409 NAME_TAKEN if the disk has a snapshot of that name; 417 SNAPSHOT_LIMIT_REACHED at the per-VM limit; 412 for a disk the VM does not have.',
  )
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: CreateSnapshotDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.snapshots.create(p, id, dto, o);
  }

  @Delete()
  @MutatingEndpoint(
    'Delete several snapshots of a disk',
    'Starts one snapshot.delete operation for ?names=a,b (all on the disk ?diskId, default the system disk).',
  )
  async deleteMany(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Query() q: DeleteSnapshotsQuery,
    @Mutation() o: MutationOptions,
  ) {
    return this.snapshots.delete(p, id, q.names, q.diskId, o);
  }

  @Post('sync')
  @MutatingEndpoint('Make the snapshot records match what the node holds', 'Starts a snapshot.sync operation (Erigones PUT /snapshot).')
  async sync(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions) {
    return this.snapshots.sync(p, id, o);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get one snapshot' })
  get(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Query() q: DiskSelector,
  ) {
    return this.snapshots.get(p, id, snapshotName(name), q.diskId);
  }

  @Patch(':name')
  @ApiOperation({ summary: "Update a snapshot's note" })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Query() q: DiskSelector,
    @Body() dto: UpdateSnapshotDto,
  ) {
    return this.snapshots.updateNote(p, id, snapshotName(name), q.diskId, dto.note);
  }

  @Delete(':name')
  @MutatingEndpoint('Delete one snapshot', 'Starts a snapshot.delete operation.')
  async deleteOne(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Query() q: DiskSelector,
    @Mutation() o: MutationOptions,
  ) {
    return this.snapshots.delete(p, id, [snapshotName(name)], q.diskId, o, 'path');
  }

  @Post(':name/rollback')
  @MutatingEndpoint(
    'Roll a disk back to the snapshot',
    "method in_place (snapshot.rollback): the VM must be stopped (423 VM_INVALID_STATE, or stopFirst); newer snapshots are destroyed only with force (417 NEWER_SNAPSHOTS otherwise); targetVmId + targetDiskId restore into another VM's disk on the same node, of the same size and kind (428 NODE_MISMATCH, 428 DISK_SIZE_MISMATCH, 428 DISK_KIND_MISMATCH otherwise), whose snapshots force drops. method new_disk (disk.rollback): stop if running → detach the disk → a new disk from the snapshot → attach it at the same position → start again → delete the old disk (and its snapshots); any failure before the VM runs on the new disk puts the old one back.",
  )
  async rollback(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Param('name') name: string,
    @Body() dto: RollbackSnapshotDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.snapshots.rollback(p, id, snapshotName(name), dto, o);
  }
}
