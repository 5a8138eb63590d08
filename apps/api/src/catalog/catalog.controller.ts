import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { NodeEntity, nodeUsage } from '@vmops/persistence';
import type { DataSource, Repository } from 'typeorm';
import { AdminOnly, CurrentPrincipal, type Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { uuidParam } from '../common/params';
import { CreateNodeDto, UpdateNodeDto } from './catalog.dto';

const UNIQUE_VIOLATION = '23505';

function nameTaken(what: string, name: string): ApiError {
  return new ApiError('NAME_TAKEN', `a ${what} named ${name} already exists`, { name });
}

async function insertUnique<T>(what: string, name: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if ((err as { driverError?: { code?: string } }).driverError?.code === UNIQUE_VIOLATION) throw nameTaken(what, name);
    throw err;
  }
}

/** Where a VM is placed (nodes): readable by all, managed with an admin key. Templates: see templates/. */
@ApiTags('catalog')
@ApiBearerAuth()
@Controller('v1')
export class CatalogController {
  constructor(
    @InjectRepository(NodeEntity) private readonly nodes: Repository<NodeEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Get('nodes')
  @ApiOperation({ summary: 'List the hypervisor nodes; an admin key also sees capacity and use' })
  async listNodes(@CurrentPrincipal() principal: Principal) {
    const rows = await this.nodes.find({ order: { name: 'ASC' } });
    const usage = principal.role === 'admin' ? await this.usage() : null;
    return { items: rows.map((n) => nodeView(n, usage)), total: rows.length };
  }

  @Post('nodes')
  @AdminOnly()
  @ApiOperation({ summary: 'Register a hypervisor node (admin); 409 NAME_TAKEN for a name another node has' })
  async createNode(@Body() dto: CreateNodeDto) {
    const row = await insertUnique('node', dto.name, () => this.nodes.save(this.nodes.create({ ...dto, status: dto.status ?? 'online' })));
    return nodeView(row, await this.usage());
  }

  @Patch('nodes/:id')
  @AdminOnly()
  @ApiOperation({ summary: 'Change a node: status (online, offline, maintenance) or capacity (admin)' })
  async updateNode(@Param('id', uuidParam('node id')) id: string, @Body() dto: UpdateNodeDto) {
    const node = await this.nodes.findOneBy({ id });
    if (!node) throw notFound('Node', id);
    // Only the fields sent: a DTO's absent fields are present as undefined, which would blank them in the answer.
    await this.nodes.save(Object.assign(node, Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined))));
    return nodeView(node, await this.usage());
  }

  private async usage(): Promise<Map<string, { cpus: number; memoryMb: number; storageGb: number; vms: number }>> {
    const nodes = await nodeUsage(this.dataSource.manager);
    return new Map(nodes.map((n) => [n.id, { vms: n.vms, cpus: n.usedCpus, memoryMb: n.usedMemoryMb, storageGb: n.usedStorageGb }]));
  }
}

function nodeView(n: NodeEntity, usage: Map<string, { cpus: number; memoryMb: number; storageGb: number; vms: number }> | null) {
  const base = { id: n.id, name: n.name, datacenter: n.datacenter, status: n.status };
  if (!usage) return base;
  return {
    ...base,
    capacity: { cpus: n.cpus, memoryMb: n.memoryMb, storageGb: n.storageGb },
    used: usage.get(n.id) ?? { vms: 0, cpus: 0, memoryMb: 0, storageGb: 0 },
  };
}
