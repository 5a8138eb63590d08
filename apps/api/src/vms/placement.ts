import { HttpStatus } from '@nestjs/common';
import { pickNode, type NodeCapacity, type PlacementRequest } from '@vmops/domain';
import type { EntityManager } from 'typeorm';
import { ApiError, invalidParameter } from '../common/api-error';

/**
 * Chooses the node for a new VM inside the caller's transaction. Node rows are locked, so two concurrent
 * creates cannot both take the last free capacity of a node.
 */
export async function placeVm(tx: EntityManager, req: PlacementRequest, requestedNodeId?: string): Promise<NodeCapacity> {
  const rows: Array<Record<string, string | number>> = await tx.query(
    `SELECT n.id, n.name, n.status, n.cpus, n.memory_mb, n.storage_gb,
            (SELECT coalesce(sum(v.cpus), 0) FROM vms v WHERE v.node_id = n.id) AS used_cpus,
            (SELECT coalesce(sum(v.memory_mb), 0) FROM vms v WHERE v.node_id = n.id) AS used_memory_mb,
            (SELECT coalesce(sum(d.size_gb), 0) FROM disks d WHERE d.node_id = n.id) AS used_storage_gb
       FROM nodes n
      ORDER BY n.name
        FOR UPDATE OF n`,
  );
  const nodes: NodeCapacity[] = rows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    status: r.status as NodeCapacity['status'],
    cpus: Number(r.cpus),
    memoryMb: Number(r.memory_mb),
    storageGb: Number(r.storage_gb),
    usedCpus: Number(r.used_cpus),
    usedMemoryMb: Number(r.used_memory_mb),
    usedStorageGb: Number(r.used_storage_gb),
  }));

  const candidates = requestedNodeId ? nodes.filter((n) => n.id === requestedNodeId) : nodes;
  if (requestedNodeId) {
    const [node] = candidates;
    if (!node) throw invalidParameter('nodeId', `node ${requestedNodeId} does not exist`);
    if (node.status !== 'online') {
      throw new ApiError(HttpStatus.LOCKED, 'NODE_NOT_OPERATIONAL', `node ${node.name} is ${node.status}; choose another node or omit nodeId`, {
        nodeId: node.id,
        status: node.status,
      });
    }
  }
  const chosen = pickNode(candidates, req);
  if (!chosen) {
    throw new ApiError(
      HttpStatus.EXPECTATION_FAILED,
      'INSUFFICIENT_CAPACITY',
      `no ${requestedNodeId ? 'room on the requested node' : 'online node has room'} for ${req.cpus} vCPU, ${req.memoryMb} MB memory and ${req.storageGb} GB disk`,
      { requested: { ...req }, nodeId: requestedNodeId ?? null },
    );
  }
  return chosen;
}
