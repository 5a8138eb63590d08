import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { NodeEntity, TemplateEntity } from '@vmops/persistence';
import type { Repository } from 'typeorm';

/** What a VM can be built from and placed on: readable by every tenant. */
@ApiTags('catalog')
@ApiBearerAuth()
@Controller('v1')
export class CatalogController {
  constructor(
    @InjectRepository(TemplateEntity) private readonly templates: Repository<TemplateEntity>,
    @InjectRepository(NodeEntity) private readonly nodes: Repository<NodeEntity>,
  ) {}

  @Get('templates')
  @ApiOperation({ summary: 'List the templates VMs can be created from' })
  async listTemplates() {
    const rows = await this.templates.find({ order: { name: 'ASC' } });
    return { items: rows.map(({ id, name, osFamily, diskSizeGb }) => ({ id, name, osFamily, diskSizeGb })), total: rows.length };
  }

  @Get('nodes')
  @ApiOperation({ summary: 'List the hypervisor nodes VMs can be placed on' })
  async listNodes() {
    const rows = await this.nodes.find({ order: { name: 'ASC' } });
    return {
      items: rows.map(({ id, name, datacenter, status }) => ({ id, name, datacenter, status })),
      total: rows.length,
    };
  }
}
