import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MigrateVmInput } from '@vmops/contracts';
import { migrationTargets, targetRefusals, vmMigrationRefusals, type MigratingVm, type MigrationMode, type MigrationRefusal, type MigrationTarget } from '@vmops/domain';
import { lockNodeUsage, nodeUsage } from '@vmops/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService } from '../operations/vm-lock.service';
import { migrateVmPlan } from '../../../../workflows/plans/migrate.plan';
import { DEFAULT_FINALIZE_TIMEOUT_SECONDS, type MigrateVmDto } from './lifecycle.dto';
import { defaultStopTimeout } from './vms.service';

export interface MigrationCheckView {
  vmId: string;
  hostname: string;
  nodeId: string;
  mode: MigrationMode;
  /** Whether a migration in this mode would be accepted now (to the node asked about, or to some node). */
  canMigrate: boolean;
  /** The VM's own reasons not to migrate, wherever to. */
  reasons: MigrationRefusal[];
  /** Another operation holds the VM: a migration now answers 409 VM_BUSY. */
  busyWith: { operationId: string; type: string } | null;
  /** Each node judged as a target, with every reason it is refused. */
  targets: MigrationTarget[];
  /** The node a migration without targetNodeId would go to; null when none qualifies. */
  placementChoice: string | null;
}

function refused(hostname: string, reasons: MigrationRefusal[], targets?: MigrationTarget[]): ApiError {
  const why = targets ? 'no node can take it' : reasons.map((r) => r.message).join('; ');
  return new ApiError(HttpStatus.CONFLICT, 'MIGRATION_REFUSED', `${hostname} cannot migrate: ${why}. GET /v1/vms/{id}/migration-check lists every reason`, {
    reasons,
    ...(targets ? { targets } : {}),
  });
}

/** Migration between nodes (Gandi migrate / can_migrate / finalize_migration). */
@Injectable()
export class MigrationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
  ) {}

  /** Gandi can_migrate: whether the VM can move, where to, and every reason it cannot. Changes nothing. */
  async check(principal: Principal, vmId: string, query: { targetNodeId?: string; mode?: MigrationMode }): Promise<MigrationCheckView> {
    const [vm] = await this.dataSource.query(
      `SELECT v.id, v.hostname, v.node_id, v.status, v.frozen, v.cpus, v.memory_mb, v.current_operation_id, o.type AS operation_type
         FROM vms v LEFT JOIN operations o ON o.id = v.current_operation_id
        WHERE v.id = $1 AND v.tenant_id = $2`,
      [vmId, principal.tenantId],
    );
    if (!vm) throw notFound('VM', vmId);
    const subject = await this.subject(this.dataSource.manager, { id: vm.id, hostname: vm.hostname, nodeId: vm.node_id, status: vm.status, frozen: vm.frozen, cpus: vm.cpus, memoryMb: vm.memory_mb });
    const mode = query.mode ?? (vm.status === 'running' ? 'live' : 'cold');
    const nodes = await nodeUsage(this.dataSource.manager);
    if (query.targetNodeId && !nodes.some((n) => n.id === query.targetNodeId)) throw invalidParameter('targetNodeId', `node ${query.targetNodeId} does not exist`);
    const { targets, chosen } = migrationTargets(subject, nodes);
    const judged = query.targetNodeId ? targets.filter((t) => t.nodeId === query.targetNodeId) : targets;
    const reasons = vmMigrationRefusals(subject, mode);
    const busyWith = vm.current_operation_id ? { operationId: vm.current_operation_id, type: vm.operation_type } : null;
    return {
      vmId,
      hostname: vm.hostname,
      nodeId: vm.node_id,
      mode,
      canMigrate: !reasons.length && !busyWith && judged.some((t) => t.eligible),
      reasons,
      busyWith,
      targets: judged,
      placementChoice: chosen?.id ?? null,
    };
  }

  migrate(principal: Principal, vmId: string, dto: MigrateVmDto, options: MutationOptions): Promise<LaunchResult> {
    const finalize = dto.finalize ?? true;
    if (finalize && dto.finalizeTimeoutSeconds !== undefined) {
      throw invalidParameter('finalizeTimeoutSeconds', 'finalizeTimeoutSeconds only goes with finalize: false (a two-phase migration)');
    }
    return this.operations.launch<MigrateVmInput>(
      {
        principal,
        type: 'vm.migrate',
        workflowType: 'migrateVmWorkflow',
        plan: migrateVmPlan,
        summary: (input) =>
          `vm.migrate ${input.hostname}: ${input.nodeName} → ${input.targetNodeName} (${input.mode}${input.finalizeTimeoutSeconds !== null ? ', two-phase' : ''})`,
        request: { vmId, targetNodeId: dto.targetNodeId ?? null, mode: dto.mode ?? null, finalize, finalizeTimeoutSeconds: dto.finalizeTimeoutSeconds ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquire(tx, principal.tenantId, vmId, operationId);
          const mode = dto.mode ?? (vm.status === 'running' ? 'live' : 'cold');
          const subject = await this.subject(tx, vm);
          const reasons = vmMigrationRefusals(subject, mode);
          if (reasons.length) throw refused(vm.hostname, reasons);
          // Every node locked, so that what this admits on the target is counted before anyone else's admission.
          const nodes = await lockNodeUsage(tx);
          const source = nodes.find((n) => n.id === vm.nodeId)!;
          let target;
          if (dto.targetNodeId) {
            target = nodes.find((n) => n.id === dto.targetNodeId);
            if (!target) throw invalidParameter('targetNodeId', `node ${dto.targetNodeId} does not exist`);
            const refusals = targetRefusals(subject, target);
            if (refusals.length) throw refused(vm.hostname, refusals);
          } else {
            const { targets, chosen } = migrationTargets(subject, nodes);
            if (!chosen) throw refused(vm.hostname, [], targets);
            target = chosen;
          }
          return {
            vm,
            input: {
              operationId,
              vmId,
              hostname: vm.hostname,
              nodeId: source.id,
              nodeName: source.name,
              targetNodeId: target.id,
              targetNodeName: target.name,
              migrationId: operationId,
              mode,
              running: vm.status === 'running',
              finalizeTimeoutSeconds: finalize ? null : (dto.finalizeTimeoutSeconds ?? DEFAULT_FINALIZE_TIMEOUT_SECONDS),
              stopTimeoutSeconds: defaultStopTimeout(vm),
            },
            reservations: { migration: { sourceNodeId: source.id, targetNodeId: target.id } },
          };
        },
      },
      options,
    );
  }

  /** The VM as migration rules judge it: with the storage of all its disks and the ones left detached. */
  private async subject(m: EntityManager, vm: { id: string; hostname: string; nodeId: string; status: string; frozen: boolean; cpus: number; memoryMb: number }): Promise<MigratingVm> {
    const disks: { id: string; position: number | null; size_gb: number }[] = await m.query(`SELECT id, position, size_gb FROM disks WHERE vm_id = $1 ORDER BY id`, [vm.id]);
    return {
      hostname: vm.hostname,
      nodeId: vm.nodeId,
      status: vm.status,
      frozen: vm.frozen,
      cpus: vm.cpus,
      memoryMb: vm.memoryMb,
      storageGb: disks.reduce((sum, d) => sum + d.size_gb, 0),
      detachedDiskIds: disks.filter((d) => d.position === null).map((d) => d.id),
    };
  }
}
