import type { GroupNeighbour } from '@vmops/domain';
import type { EntityManager } from 'typeorm';
import { MIGRATION_OTHER_NODE } from './node-usage';

/** The nodes a VM occupies: its own, and the other node of a migration that holds it (it counts on both until then). */
const OCCUPIED = `
  FROM vms v
  LEFT JOIN operations o ON o.id = v.current_operation_id AND o.type = 'vm.migrate'
  CROSS JOIN LATERAL (VALUES (v.node_id), (CASE WHEN o.id IS NULL THEN NULL ELSE ${MIGRATION_OTHER_NODE} END)) n(node_id)`;

/**
 * Every VM of `groupIds` but `exceptVmId`, with each node it occupies. Read after lockAntiAffinityGroups, this is
 * what no concurrent admission can change meanwhile.
 */
export async function groupNeighbours(m: EntityManager, groupIds: string[], exceptVmId: string | null): Promise<GroupNeighbour[]> {
  if (!groupIds.length) return [];
  const rows: { group_id: string; group_name: string; vm_id: string; hostname: string; node_id: string }[] = await m.query(
    `SELECT g.id AS group_id, g.name AS group_name, v.id AS vm_id, v.hostname, n.node_id ${OCCUPIED}
       JOIN anti_affinity_members am ON am.vm_id = v.id
       JOIN anti_affinity_groups g ON g.id = am.group_id
      WHERE am.group_id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR v.id <> $2) AND n.node_id IS NOT NULL
      ORDER BY g.name, v.hostname`,
    [groupIds, exceptVmId],
  );
  return rows.map((r) => ({ groupId: r.group_id, groupName: r.group_name, vmId: r.vm_id, hostname: r.hostname, nodeId: r.node_id }));
}

/** Each of `vmIds` with every node it occupies. */
export async function occupiedNodes(m: EntityManager, vmIds: string[]): Promise<{ vmId: string; hostname: string; nodeId: string }[]> {
  const rows: { vm_id: string; hostname: string; node_id: string }[] = await m.query(
    `SELECT v.id AS vm_id, v.hostname, n.node_id ${OCCUPIED} WHERE v.id = ANY($1::uuid[]) AND n.node_id IS NOT NULL ORDER BY v.hostname`,
    [vmIds],
  );
  return rows.map((r) => ({ vmId: r.vm_id, hostname: r.hostname, nodeId: r.node_id }));
}

/**
 * The one lock order for anything that places a VM, changes a group or records an interface: the VM rows first
 * (an operation's lock takes its VM's row), then the groups (here, in id order), then a network's address pool
 * (allocateAddress), then the nodes (lockNodeUsage; an interface's insert takes its node's row too). Two
 * admissions of members of one group wait for each other, so neither can miss where the other put its VM.
 */
export async function lockAntiAffinityGroups(tx: EntityManager, groupIds: string[]): Promise<void> {
  if (groupIds.length) await tx.query(`SELECT id FROM anti_affinity_groups WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [groupIds]);
}

export async function groupsOfVm(m: EntityManager, vmId: string): Promise<string[]> {
  return (await m.query(`SELECT group_id FROM anti_affinity_members WHERE vm_id = $1`, [vmId])).map(
    (r: { group_id: string }) => r.group_id,
  );
}

/** The groups `vmId` is a member of, locked; and its neighbours in them. */
export async function lockGroupsOfVm(tx: EntityManager, vmId: string): Promise<GroupNeighbour[]> {
  const groupIds = await groupsOfVm(tx, vmId);
  await lockAntiAffinityGroups(tx, groupIds);
  return groupNeighbours(tx, groupIds, vmId);
}
