import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { NodeEntity, nodeUsage } from '@vmops/persistence';
import type { DataSource, Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, isUniqueViolation, notFound } from '../common/api-error';
import type { CreateNodeDto, UpdateNodeDto } from './catalog.dto';

type Usage = Map<string, { cpus: number; memoryMb: number; storageGb: number; vms: number }>;

/** A node as everyone reads it; with an admin key, also what it offers and what is used of it. */
function nodeView(n: NodeEntity, usage: Usage | null) {
  const base = { id: n.id, name: n.name, datacenter: n.datacenter, status: n.status };
  if (!usage) return base;
  return {
    ...base,
    capacity: { cpus: n.cpus, memoryMb: n.memoryMb, storageGb: n.storageGb },
    used: usage.get(n.id) ?? { vms: 0, cpus: 0, memoryMb: 0, storageGb: 0 },
  };
}

/** The hypervisor nodes VMs are placed on: readable by all, managed with an admin key. */
@Injectable()
export class NodesService {
  constructor(
    @InjectRepository(NodeEntity) private readonly nodes: Repository<NodeEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async list(principal: Principal) {
    const rows = await this.nodes.find({ order: { name: 'ASC' } });
    const usage = principal.role === 'admin' ? await this.usage() : null;
    return { items: rows.map((n) => nodeView(n, usage)), total: rows.length };
  }

  async create(dto: CreateNodeDto) {
    try {
      const row = await this.nodes.save(this.nodes.create({ ...dto, status: dto.status ?? 'online' }));
      return nodeView(row, await this.usage());
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError('NAME_TAKEN', `a node named ${dto.name} already exists`, { name: dto.name });
      }
      throw err;
    }
  }

  async update(id: string, dto: UpdateNodeDto) {
    const node = await this.nodes.findOneBy({ id });
    if (!node) throw notFound('Node', id);
    // Only the fields sent: a DTO's absent fields are present as undefined, which would blank them in the answer.
    await this.nodes.save(Object.assign(node, Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined))));
    return nodeView(node, await this.usage());
  }

  private async usage(): Promise<Usage> {
    const nodes = await nodeUsage(this.dataSource.manager);
    return new Map(nodes.map((n) => [n.id, { vms: n.vms, cpus: n.usedCpus, memoryMb: n.usedMemoryMb, storageGb: n.usedStorageGb }]));
  }
}
