import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { diffNodeAudit, type NodeInventory } from '@vmops/domain';
import type { DataSource } from 'typeorm';
import { notFound } from '../common/api-error';
import { NodeReader } from './node-reader.service';

/** What a node really holds (read through its agent) against what the inventory says it holds. */
@Injectable()
export class NodeAuditService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reader: NodeReader,
  ) {}

  async audit(nodeId: string) {
    const [node] = await this.dataSource.query(`SELECT id, name FROM nodes WHERE id = $1`, [nodeId]);
    if (!node) throw notFound('node', nodeId);
    const audit = await this.reader.read(node, { activity: 'auditNode', args: { nodeId }, summary: `Audit node ${node.name}` });
    const diff = diffNodeAudit(audit, await this.inventoryOf(nodeId));
    return { node: { id: node.id, name: node.name }, diff, audit };
  }

  private async inventoryOf(nodeId: string): Promise<NodeInventory> {
    const q = (sql: string) => this.dataSource.query(sql, [nodeId]);
    const [vms, disks, nics, snapshots, migrations] = await Promise.all([
      q(`SELECT id, status, cpus, memory_mb AS "memoryMb", current_operation_id IS NOT NULL AS busy FROM vms WHERE node_id = $1`),
      q(`SELECT id, vm_id AS "vmId", position, size_gb AS "sizeGb" FROM disks WHERE node_id = $1`),
      q(`SELECT id, vm_id AS "vmId", position FROM network_interfaces WHERE node_id = $1`),
      q(`SELECT s.id, s.disk_id AS "diskId" FROM snapshots s JOIN disks d ON d.id = s.disk_id WHERE d.node_id = $1`),
      q(`SELECT o.id FROM operations o JOIN vms v ON v.current_operation_id = o.id
          WHERE o.type = 'vm.migrate' AND $1 IN ((o.reservations->'migration'->>'sourceNodeId')::uuid, (o.reservations->'migration'->>'targetNodeId')::uuid)`),
    ]);
    return { vms, disks, nics, snapshots, migrations };
  }
}
