import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth';
import { uuidParam } from '../common/params';
import { NodeAuditService } from './node-audit.service';

/** Operators compare what a node really holds with what the inventory says it holds. */
@ApiTags('admin')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/nodes')
export class NodeAuditController {
  constructor(private readonly audits: NodeAuditService) {}

  @Get(':id/audit')
  @ApiOperation({
    summary: 'Audit a node: what its hypervisor holds, diffed against the inventory',
    description:
      "Reads everything the node holds (VMs, disks, snapshots, interfaces, migrations) through its agent and lists orphans (on the node, not in the inventory), missing objects and mismatched fields. VMs with an operation in flight are skipped. 503 NODE_AGENT_UNAVAILABLE when the node's agent does not answer.",
  })
  audit(@Param('id', uuidParam('node id')) nodeId: string) {
    return this.audits.audit(nodeId);
  }
}
