import { Body, Controller, Delete, Get, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/auth';
import { Mutation } from '../common/mutation-options';
import { KeysetPageQuery } from '../common/keyset';
import { uuidParam } from '../common/params';
import { OperationsService, type MutationOptions } from '../operations/operations.service';
import { CreateVmDto } from './create-vm.dto';
import { ListVmsQuery, VmFilter } from './list-vms.query';
import { CloneVmDto, DeleteVmQuery, MigrateVmDto, MigrationCheckQuery, RebuildVmDto, UpdateVmDto } from './lifecycle.dto';
import { MigrationService } from './migration.service';
import { StartVmDto, ShutdownVmDto, StopVmDto } from './power.dto';
import { VmLifecycleService } from './vm-lifecycle.service';
import { VmsService, type PowerAction, type PowerOptions } from './vms.service';

/** Swagger for every mutating VM endpoint: the options and the two success answers. */
export function MutatingEndpoint(summary: string, description: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary, description })(target, key, descriptor);
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Same key + same request → the same operation; same key + another request → 422',
    })(target, key, descriptor);
    ApiQuery({
      name: 'dryRun',
      required: false,
      type: Boolean,
      description: 'true: answer 200 with the ordered steps (each with its undo) and start nothing',
    })(target, key, descriptor);
    ApiAcceptedResponse({ description: 'The operation; its address is in Location' })(target, key, descriptor);
    ApiOkResponse({ description: 'With dryRun=true: the plan' })(target, key, descriptor);
  };
}

@ApiTags('vms')
@ApiBearerAuth()
@Controller('v1/vms')
export class VmsController {
  constructor(
    private readonly vms: VmsService,
    private readonly lifecycle: VmLifecycleService,
    private readonly operations: OperationsService,
    private readonly migrations: MigrationService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List your VMs',
    description:
      'Filters: status, nodeId, hostname (contains), label; orderBy hostname, created, status, memory, cpus (- for descending); limit with cursor (nextCursor of the previous page) or offset; total=true also counts all matches.',
  })
  @ApiOkResponse({ description: '{ items, limit, offset, nextCursor, total? }' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListVmsQuery) {
    return this.vms.list(principal, query);
  }

  @Get('count')
  @ApiOperation({ summary: 'Count your VMs (same filters as the list)' })
  count(@CurrentPrincipal() principal: Principal, @Query() filter: VmFilter) {
    return this.vms.count(principal, filter);
  }

  @Get(':id/status/current')
  @ApiOperation({
    summary: "The VM's live status, read from its node",
    description:
      "Erigones status/current: asks the node's agent, and shows it next to the inventory's status (inSync). 503 NODE_AGENT_UNAVAILABLE if the agent does not answer.",
  })
  liveStatus(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.vms.liveStatus(principal, id, false);
  }

  @Put(':id/status/current')
  @ApiOperation({
    summary: "Read the VM's live status and record it",
    description:
      'As GET, then the inventory takes the running/stopped state the node reports. 409 VM_BUSY while an operation runs on the VM; 409 VM_NOT_ON_NODE if the node has no such VM.',
  })
  syncStatus(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.vms.liveStatus(principal, id, true);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one VM as the inventory records it' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string) {
    return this.vms.get(principal, id);
  }

  @Get(':id/operations')
  @ApiOperation({ summary: "The VM's action history, newest first" })
  async history(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('VM id')) id: string, @Query() page: KeysetPageQuery) {
    await this.vms.get(principal, id);
    return this.operations.list(principal, { vmId: id }, page);
  }

  @Post()
  @MutatingEndpoint(
    'Create a VM from a template',
    'Starts a vm.create operation: system disk from the template, define, start. 412 INVALID_PARAMETER for a template or node that does not exist; 409 HOSTNAME_TAKEN, 409 ANTI_AFFINITY; 417 INSUFFICIENT_CAPACITY, 417 ADDRESS_POOL_EXHAUSTED; 423 NODE_NOT_OPERATIONAL for a node not online, 423 TEMPLATE_NOT_READY.',
  )
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateVmDto, @Mutation() options: MutationOptions) {
    return this.vms.create(principal, dto, options);
  }

  @Delete(':id')
  @MutatingEndpoint(
    'Delete a VM',
    'Starts a vm.delete operation. Default (Gandi): the system disk and the first interface are deleted, the other disks and interfaces detached and kept; deleteAllDisks=true deletes every disk. A running VM is powered off first.',
  )
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Query() q: DeleteVmQuery,
    @Mutation() o: MutationOptions,
  ) {
    return this.lifecycle.delete(p, id, q.deleteAllDisks ?? false, o);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change cpus/memory (an operation), label or note (at once)',
    description:
      'cpus/memoryMb: a stopped VM is resized by a vm.update operation (202); a running one needs apply "restart" (202, vm.update restarts it) or "next_stop" (200: kept as pendingSize, applied by the next stop). Label and note alone: 200. 417 INSUFFICIENT_CAPACITY when the node lacks the memory.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiQuery({ name: 'dryRun', required: false, type: Boolean })
  @ApiAcceptedResponse({ description: 'A resize: the vm.update operation; its address is in Location' })
  @ApiOkResponse({ description: 'Label or note changed, or a size kept for the next stop: the VM; with dryRun=true, the plan' })
  async update(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: UpdateVmDto,
    @Mutation() o: MutationOptions,
  ) {
    const result = await this.lifecycle.update(p, id, dto, o);
    if (result.kind === 'updated') return result.vm;
    return result;
  }

  @Post(':id/rebuild')
  @MutatingEndpoint(
    'Rebuild a VM from its template (Gigas)',
    'Starts a vm.rebuild operation: every disk is made anew — the system disk from the template (templateId: another one), the others zeroed — the network stays, and the VM starts unless startAfter is false. The old disks are deleted only once the new ones are in place; until then any failure puts them back.',
  )
  async rebuild(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: RebuildVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.lifecycle.rebuild(p, id, dto, o);
  }

  @Post(':id/clone')
  @MutatingEndpoint(
    'Clone a VM (Gigas)',
    "Starts a vm.clone operation: a new VM (hostname; cpus, memoryMb, label, note, nodeId, antiAffinityGroupIds, larger disk sizes by position, start) from the source's attached disks. The source — stopped, or running with its filesystems frozen through its guest agent — is held only until its disks are captured; any failure removes the half-made clone and the captures. The operation is the clone's.",
  )
  async clone(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: CloneVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.vms.clone(p, id, dto, o);
  }

  @Get(':id/migration-check')
  @ApiOperation({
    summary: 'Whether the VM can migrate, and where to (Gandi can_migrate)',
    description:
      "Judges every node (or targetNodeId) as a target: status, free vCPU, memory and storage, each reason a node is refused, not just the first; the VM's own reasons (not settled, frozen, detached disks, not running for a live migration); busyWith, the operation holding it; and placementChoice, where a migration without targetNodeId would go. Changes nothing.",
  })
  migrationCheck(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Query() query: MigrationCheckQuery) {
    return this.migrations.check(p, id, query);
  }

  @Post(':id/migrate')
  @MutatingEndpoint(
    'Move a VM to another node (Gandi migrate)',
    'Starts a vm.migrate operation. live (default for a running VM): reserve the target → copy disks and memory while it runs (progress.stepPercent) → switch over → record → free the source. cold (default for a stopped VM): stop first, start on the target. A failure before the move is recorded leaves the VM on the source and nothing on the target. finalize false (two-phase): the operation waits after the switch-over (waiting.until) for POST /v1/operations/{id}/finalize or finalizeTimeoutSeconds; a cancel meanwhile moves the VM back. 409 MIGRATION_REFUSED with every reason (see migration-check); 409 VM_BUSY while another operation runs on it.',
  )
  async migrate(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: MigrateVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.migrations.migrate(p, id, dto, o);
  }

  @Post(':id/start')
  @MutatingEndpoint(
    'Start a stopped VM',
    'Starts a vm.start operation; bootIso boots once from an ISO. 423 VM_INVALID_STATE unless stopped, 423 VM_FROZEN if frozen; 409 VM_BUSY while another operation runs on it.',
  )
  start(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: StartVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.power(p, id, 'start', dto, o);
  }

  @Post(':id/stop')
  @MutatingEndpoint(
    'Stop a running VM: ACPI shutdown, then power off after the timeout',
    'Starts a vm.stop operation. The guest gets timeoutSeconds (default 180, 300 for Windows) to power off, then the VM is powered off; force powers it off at once. 423 unless running.',
  )
  stop(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: StopVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.power(p, id, 'stop', dto, o);
  }

  @Post(':id/shutdown')
  @MutatingEndpoint(
    'Send the ACPI power button to a running VM',
    'Starts a vm.shutdown operation: never forces. A guest that does not power off within timeoutSeconds fails the operation (GuestDidNotStop) and keeps running. 423 unless running.',
  )
  shutdown(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: ShutdownVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.power(p, id, 'shutdown', dto, o);
  }

  @Post(':id/reboot')
  @MutatingEndpoint(
    'Reboot a running VM: graceful, hard reset after the timeout',
    'Starts a vm.reboot operation; force resets at once. 423 unless running.',
  )
  reboot(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuidParam('VM id')) id: string,
    @Body() dto: StopVmDto,
    @Mutation() o: MutationOptions,
  ) {
    return this.power(p, id, 'reboot', dto, o);
  }

  @Post(':id/reset')
  @MutatingEndpoint('Hard-reset a running VM (the reset button)', 'Starts a vm.hard_reset operation. 423 unless running.')
  reset(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions) {
    return this.power(p, id, 'reset', {}, o);
  }

  @Post(':id/freeze')
  @MutatingEndpoint(
    'Freeze a stopped VM: it refuses to start until unfrozen',
    'Starts a vm.freeze operation. 423 unless stopped and not frozen.',
  )
  freeze(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions) {
    return this.power(p, id, 'freeze', {}, o);
  }

  @Post(':id/unfreeze')
  @MutatingEndpoint('Unfreeze a frozen VM', 'Starts a vm.unfreeze operation. 423 VM_NOT_FROZEN unless frozen.')
  unfreeze(@CurrentPrincipal() p: Principal, @Param('id', uuidParam('VM id')) id: string, @Mutation() o: MutationOptions) {
    return this.power(p, id, 'unfreeze', {}, o);
  }

  private async power(principal: Principal, id: string, action: PowerAction, dto: PowerOptions, options: MutationOptions) {
    return this.vms.power(principal, id, action, dto, options);
  }
}
