import { defaultStopTimeoutFor, type MigrateVmInput } from '@vmops/contracts';
import {
  migrationTargets,
  targetRefusals,
  vmMigrationRefusals,
  type MigratingVm,
  type MigrationMode,
  type MigrationRefusal,
  type MigrationTarget,
} from '@vmops/domain';
import type { EntityManager } from 'typeorm';
import { groupNeighbours, groupsOfVm, lockGroupsOfVm } from './anti-affinity';
import { lockNodeUsage } from './node-usage';
import type { Reservations } from './operations';

/** A VM its migration has locked, as admission reads it (its disks are read here). */
export interface VmToMigrate extends Omit<MigratingVm, 'storageGb' | 'detachedDiskIds' | 'neighbours'> {
  id: string;
  osFamily: string | null;
}

export interface MigrationAsk {
  operationId: string;
  /** Absent: placement chooses among the nodes that qualify. */
  targetNodeId?: string;
  /** Absent: live for a running VM, cold for a stopped one. */
  mode?: MigrationMode;
  /** null: finalize at once; else a two-phase migration that finalizes by itself after this long. */
  finalizeTimeoutSeconds: number | null;
}

export type MigrationAdmission =
  | { admitted: true; input: MigrateVmInput; reservations: Reservations }
  | { admitted: false; unknownTarget?: string; reasons: MigrationRefusal[]; targets?: MigrationTarget[] };

/**
 * The VM as migration rules judge it: with the storage of all its disks, the ones left detached, and its
 * anti-affinity neighbours (as locked by the caller, or read as they are now).
 */
export async function migratingVm(
  m: EntityManager,
  vm: Omit<VmToMigrate, 'osFamily'>,
  neighbours?: MigratingVm['neighbours'],
): Promise<MigratingVm> {
  const disks: { id: string; position: number | null; size_gb: number }[] = await m.query(
    `SELECT id, position, size_gb FROM disks WHERE vm_id = $1 ORDER BY id`,
    [vm.id],
  );
  return {
    hostname: vm.hostname,
    nodeId: vm.nodeId,
    status: vm.status,
    frozen: vm.frozen,
    cpus: vm.cpus,
    memoryMb: vm.memoryMb,
    storageGb: disks.reduce((sum, d) => sum + d.size_gb, 0),
    detachedDiskIds: disks.filter((d) => d.position === null).map((d) => d.id),
    neighbours: neighbours ?? (await groupNeighbours(m, await groupsOfVm(m, vm.id), vm.id)),
  };
}

/**
 * Admits the migration of a VM the caller's transaction holds: the VM's own rules, then the target's (every node
 * locked, so what this admits on the target counts before anyone else's admission; see lockNodeUsage) or, with no
 * target asked for, placement among the nodes that qualify. The one admission of the API's migrations and a drain's.
 */
export async function admitMigration(tx: EntityManager, vm: VmToMigrate, ask: MigrationAsk): Promise<MigrationAdmission> {
  const mode = ask.mode ?? (vm.status === 'running' ? 'live' : 'cold');
  const subject = await migratingVm(tx, vm, await lockGroupsOfVm(tx, vm.id));
  const reasons = vmMigrationRefusals(subject, mode);
  if (reasons.length) return { admitted: false, reasons };
  const nodes = await lockNodeUsage(tx);
  const source = nodes.find((n) => n.id === vm.nodeId)!;
  let target;
  if (ask.targetNodeId) {
    target = nodes.find((n) => n.id === ask.targetNodeId);
    if (!target) return { admitted: false, unknownTarget: ask.targetNodeId, reasons: [] };
    const refusals = targetRefusals(subject, target);
    if (refusals.length) return { admitted: false, reasons: refusals };
  } else {
    const { targets, chosen } = migrationTargets(subject, nodes);
    if (!chosen) return { admitted: false, reasons: [], targets };
    target = chosen;
  }
  return {
    admitted: true,
    input: {
      operationId: ask.operationId,
      vmId: vm.id,
      hostname: vm.hostname,
      nodeId: source.id,
      nodeName: source.name,
      targetNodeId: target.id,
      targetNodeName: target.name,
      migrationId: ask.operationId,
      mode,
      running: vm.status === 'running',
      finalizeTimeoutSeconds: ask.finalizeTimeoutSeconds,
      stopTimeoutSeconds: defaultStopTimeoutFor(vm.osFamily),
    },
    reservations: { migration: { sourceNodeId: source.id, targetNodeId: target.id } },
  };
}
