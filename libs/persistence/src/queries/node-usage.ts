import type { NodeCapacity } from '@vmops/domain';
import type { EntityManager } from 'typeorm';

/**
 * The node of a migration that the VM's record does not name: the target until the move is recorded, the source
 * after (it keeps its copy until cleaned up). The VM counts there as well, for as long as the migration holds it.
 */
export const MIGRATION_OTHER_NODE = `CASE WHEN v.node_id = (o.reservations->'migration'->>'targetNodeId')::uuid
  THEN (o.reservations->'migration'->>'sourceNodeId')::uuid ELSE (o.reservations->'migration'->>'targetNodeId')::uuid END`;

/**
 * What each node has handed out: the one definition of node usage, for placement, every admission check and the
 * node view. A VM counts with the largest size it may take — its own, a size waiting for its next stop, or the
 * size an in-flight vm.update is taking it to — and a disk with its size or the one an in-flight disk.resize
 * grows it to. A VM or disk recorded by an operation that has not run yet counts at once (its launch records it).
 * A migrating VM counts on both of its nodes, with its disks, until its migration lets it go.
 */
const NODE_USAGE = `
  SELECT n.id, n.name, n.status, n.cpus, n.memory_mb, n.storage_gb,
         coalesce(v.vms, 0)::int AS vms, coalesce(v.cpus, 0)::int AS used_cpus, coalesce(v.memory_mb, 0)::int AS used_memory_mb,
         coalesce(d.storage_gb, 0)::int AS used_storage_gb
    FROM nodes n
    LEFT JOIN (
      SELECT node_id, count(*) FILTER (WHERE own) AS vms, sum(cpus) AS cpus, sum(memory_mb) AS memory_mb
        FROM (
          SELECT v.node_id, true AS own,
                 greatest(v.cpus, coalesce(v.pending_cpus, 0), coalesce((o.request->>'cpus')::int, 0)) AS cpus,
                 greatest(v.memory_mb, coalesce(v.pending_memory_mb, 0), coalesce((o.request->>'memoryMb')::int, 0)) AS memory_mb
            FROM vms v
            LEFT JOIN operations o ON o.id = v.current_operation_id AND o.type = 'vm.update'
          UNION ALL
          SELECT ${MIGRATION_OTHER_NODE}, false, v.cpus, v.memory_mb
            FROM vms v JOIN operations o ON o.id = v.current_operation_id AND o.type = 'vm.migrate'
        ) u
       GROUP BY node_id
    ) v ON v.node_id = n.id
    LEFT JOIN (
      SELECT node_id, sum(size_gb) AS storage_gb
        FROM (
          SELECT d.node_id, greatest(d.size_gb, coalesce((o.request->>'sizeGb')::int, 0)) AS size_gb
            FROM disks d
            LEFT JOIN vms v ON v.id = d.vm_id
            LEFT JOIN operations o ON o.id = v.current_operation_id AND o.type = 'disk.resize' AND o.request->>'diskId' = d.id::text
          UNION ALL
          SELECT ${MIGRATION_OTHER_NODE}, d.size_gb
            FROM disks d JOIN vms v ON v.id = d.vm_id JOIN operations o ON o.id = v.current_operation_id AND o.type = 'vm.migrate'
        ) u
       GROUP BY node_id
    ) d ON d.node_id = n.id`;

export interface NodeUsage extends NodeCapacity {
  vms: number;
}

function toUsage(r: Record<string, string | number>): NodeUsage {
  return {
    id: String(r.id),
    name: String(r.name),
    status: r.status as NodeCapacity['status'],
    cpus: Number(r.cpus),
    memoryMb: Number(r.memory_mb),
    storageGb: Number(r.storage_gb),
    vms: Number(r.vms),
    usedCpus: Number(r.used_cpus),
    usedMemoryMb: Number(r.used_memory_mb),
    usedStorageGb: Number(r.used_storage_gb),
  };
}

/** The nodes' capacity and usage now, without locking (views). `nodeIds`: these nodes only. */
export async function nodeUsage(m: EntityManager, nodeIds?: string[]): Promise<NodeUsage[]> {
  const rows = nodeIds
    ? await m.query(`${NODE_USAGE} WHERE n.id = ANY($1::uuid[]) ORDER BY n.name`, [nodeIds])
    : await m.query(`${NODE_USAGE} ORDER BY n.name`);
  return rows.map(toUsage);
}

/**
 * The one locking rule for admitting anything that takes capacity: lock the node rows first (in id order, so
 * two admissions never deadlock), and only then read their usage, in a statement of its own. Under READ
 * COMMITTED each statement sees what was committed when it began, so the usage read after the lock includes
 * everything the previous holder of the lock admitted; a sum taken in the locking statement itself would come
 * from before the wait. The locks hold until the caller's transaction ends, which must record what it admits.
 * `nodeIds`: the nodes the admission may use (all of them for placement).
 */
export async function lockNodeUsage(tx: EntityManager, nodeIds?: string[]): Promise<NodeUsage[]> {
  if (nodeIds) await tx.query(`SELECT id FROM nodes WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [nodeIds]);
  else await tx.query(`SELECT id FROM nodes ORDER BY id FOR UPDATE`);
  return nodeUsage(tx, nodeIds);
}
