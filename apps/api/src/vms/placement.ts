import { HttpStatus } from '@nestjs/common';
import { pickNode, type NodeCapacity, type PlacementRequest } from '@vmops/domain';
import { lockNodeUsage } from '@vmops/persistence';
import type { EntityManager } from 'typeorm';
import { ApiError, invalidParameter } from '../common/api-error';

/**
 * Chooses the node for a new VM inside the caller's transaction, which must record the VM before it commits.
 * The nodes stay locked until then (lockNodeUsage), so concurrent creates admit exactly what fits.
 */
export async function placeVm(tx: EntityManager, req: PlacementRequest, requestedNodeId?: string): Promise<NodeCapacity> {
  const nodes = await lockNodeUsage(tx);

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
