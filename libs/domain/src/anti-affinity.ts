/**
 * A VM that shares an anti-affinity group with the VM being placed, and a node it occupies: the node it is
 * recorded on, or the other node of a migration that holds it (it counts on both until the migration lets go).
 */
export interface GroupNeighbour {
  groupId: string;
  groupName: string;
  vmId: string;
  hostname: string;
  nodeId: string;
}

/** The first neighbour on `nodeId`, if any: placing the VM there would break that group. */
export function antiAffinityConflict(neighbours: readonly GroupNeighbour[], nodeId: string): GroupNeighbour | null {
  return neighbours.find((n) => n.nodeId === nodeId) ?? null;
}

export function antiAffinityMessage(hostname: string, neighbour: GroupNeighbour, nodeName: string): string {
  return `${nodeName} already runs ${neighbour.hostname}, which is in anti-affinity group ${neighbour.groupName} with ${hostname}`;
}

/**
 * Members that would share a node if they were in one group: the first pair found, as (the VM, the one already
 * there), or null. `occupied` lists each VM with every node it occupies.
 */
export function firstSharedNode(
  occupied: readonly { vmId: string; hostname: string; nodeId: string }[],
): { vm: { vmId: string; hostname: string }; already: { vmId: string; hostname: string }; nodeId: string } | null {
  const byNode = new Map<string, { vmId: string; hostname: string }>();
  for (const o of occupied) {
    const there = byNode.get(o.nodeId);
    if (there && there.vmId !== o.vmId) return { vm: { vmId: o.vmId, hostname: o.hostname }, already: there, nodeId: o.nodeId };
    byNode.set(o.nodeId, { vmId: o.vmId, hostname: o.hostname });
  }
  return null;
}
