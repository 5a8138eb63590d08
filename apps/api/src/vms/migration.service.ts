import { OPERATIONS } from '@vmops/catalogue';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MigrateVmInput } from '@vmops/contracts';
import { migrationTargets, vmMigrationRefusals, type MigrationMode, type MigrationRefusal, type MigrationTarget } from '@vmops/domain';
import { admitMigration, migratingVm, nodeUsage } from '@vmops/persistence';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService } from '../operations/vm-lock.service';
import { DEFAULT_FINALIZE_TIMEOUT_SECONDS, type MigrateVmDto } from './lifecycle.dto';

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
  return new ApiError('MIGRATION_REFUSED', `${hostname} cannot migrate: ${why}. GET /v1/vms/{id}/migration-check lists every reason`, {
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
    const subject = await migratingVm(this.dataSource.manager, {
      id: vm.id,
      hostname: vm.hostname,
      nodeId: vm.node_id,
      status: vm.status,
      frozen: vm.frozen,
      cpus: vm.cpus,
      memoryMb: vm.memory_mb,
    });
    const mode = query.mode ?? (vm.status === 'running' ? 'live' : 'cold');
    const nodes = await nodeUsage(this.dataSource.manager);
    if (query.targetNodeId && !nodes.some((n) => n.id === query.targetNodeId))
      throw invalidParameter('targetNodeId', `node ${query.targetNodeId} does not exist`);
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
        operation: OPERATIONS['vm.migrate'],
        request: {
          vmId,
          targetNodeId: dto.targetNodeId ?? null,
          mode: dto.mode ?? null,
          finalize,
          finalizeTimeoutSeconds: dto.finalizeTimeoutSeconds ?? null,
        },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquire(tx, principal.tenantId, vmId, operationId);
          const admission = await admitMigration(tx, vm, {
            operationId,
            targetNodeId: dto.targetNodeId,
            mode: dto.mode,
            finalizeTimeoutSeconds: finalize ? null : (dto.finalizeTimeoutSeconds ?? DEFAULT_FINALIZE_TIMEOUT_SECONDS),
          });
          if (!admission.admitted) {
            if (admission.unknownTarget) throw invalidParameter('targetNodeId', `node ${admission.unknownTarget} does not exist`);
            throw refused(vm.hostname, admission.reasons, admission.targets);
          }
          return { vm, input: admission.input, reservations: admission.reservations };
        },
      },
      options,
    );
  }
}
