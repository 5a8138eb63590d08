export interface NodeCapacity {
  id: string;
  name: string;
  status: 'online' | 'offline' | 'maintenance';
  cpus: number;
  memoryMb: number;
  storageGb: number;
  usedCpus: number;
  usedMemoryMb: number;
  usedStorageGb: number;
}

export interface PlacementRequest {
  cpus: number;
  memoryMb: number;
  storageGb: number;
}

export function fits(node: NodeCapacity, req: PlacementRequest): boolean {
  return (
    node.status === 'online' &&
    node.usedCpus + req.cpus <= node.cpus &&
    node.usedMemoryMb + req.memoryMb <= node.memoryMb &&
    node.usedStorageGb + req.storageGb <= node.storageGb
  );
}

function memoryFreeAfter(node: NodeCapacity, req: PlacementRequest): number {
  return node.memoryMb - node.usedMemoryMb - req.memoryMb;
}

/** The online node with room for the request that keeps the most memory free (ties: by name); null if none fits. */
export function pickNode(nodes: readonly NodeCapacity[], req: PlacementRequest): NodeCapacity | null {
  const candidates = nodes.filter((node) => fits(node, req));
  candidates.sort((a, b) => memoryFreeAfter(b, req) - memoryFreeAfter(a, req) || a.name.localeCompare(b.name));
  return candidates[0] ?? null;
}
