import {
  antiAffinityConflict,
  antiAffinityMessage,
  pickNode,
  type GroupNeighbour,
  type NodeCapacity,
  type PlacementRequest,
} from '@vmops/domain';
import { lockNodeUsage } from '@vmops/persistence';
import type { EntityManager } from 'typeorm';
import { ApiError, invalidParameter } from '../common/api-error';

/** 409: the node already runs a VM of one of the groups the VM is to join. */
export function antiAffinityViolated(hostname: string, neighbour: GroupNeighbour, nodeName: string): ApiError {
  return new ApiError('ANTI_AFFINITY', antiAffinityMessage(hostname, neighbour, nodeName), {
    group: { id: neighbour.groupId, name: neighbour.groupName },
    vm: { id: neighbour.vmId, hostname: neighbour.hostname },
    nodeId: neighbour.nodeId,
  });
}

/**
 * Chooses the node for a new VM inside the caller's transaction, which must record the VM before it commits.
 * The nodes stay locked until then (lockNodeUsage), so concurrent creates admit exactly what fits. A node where
 * one of `neighbours` (the VMs of the anti-affinity groups it joins, locked by the caller) is, is never chosen.
 */
export async function placeVm(
  tx: EntityManager,
  req: PlacementRequest & { hostname: string },
  requestedNodeId?: string,
  neighbours: readonly GroupNeighbour[] = [],
): Promise<NodeCapacity> {
  const nodes = await lockNodeUsage(tx);

  const candidates = requestedNodeId ? nodes.filter((n) => n.id === requestedNodeId) : nodes;
  if (requestedNodeId) {
    const [node] = candidates;
    if (!node) throw invalidParameter('nodeId', `node ${requestedNodeId} does not exist`);
    if (node.status !== 'online') {
      throw new ApiError('NODE_NOT_OPERATIONAL', `node ${node.name} is ${node.status}; choose another node or omit nodeId`, {
        nodeId: node.id,
        status: node.status,
      });
    }
  }
  const allowed = candidates.filter((n) => !antiAffinityConflict(neighbours, n.id));
  const chosen = pickNode(allowed, req);
  if (chosen) return chosen;
  // A node with room that a group rules out: say which group and which VM, rather than "no room".
  const blocked = pickNode(candidates, req);
  if (blocked) throw antiAffinityViolated(req.hostname, antiAffinityConflict(neighbours, blocked.id)!, blocked.name);
  throw new ApiError(
    'INSUFFICIENT_CAPACITY',
    `no ${requestedNodeId ? 'room on the requested node' : 'online node has room'} for ${req.cpus} vCPU, ${req.memoryMb} MB memory and ${req.storageGb} GB disk`,
    { requested: { cpus: req.cpus, memoryMb: req.memoryMb, storageGb: req.storageGb }, nodeId: requestedNodeId ?? null },
  );
}
