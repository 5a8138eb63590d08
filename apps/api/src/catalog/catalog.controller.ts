import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, CurrentPrincipal, type Principal } from '../auth/auth';
import { uuidParam } from '../common/params';
import { CreateNodeDto, UpdateNodeDto } from './catalog.dto';
import { NodesService } from './nodes.service';

/** Where a VM is placed (nodes): readable by all, managed with an admin key. Templates: see templates/. */
@ApiTags('catalog')
@ApiBearerAuth()
@Controller('v1')
export class CatalogController {
  constructor(private readonly nodes: NodesService) {}

  @Get('nodes')
  @ApiOperation({ summary: 'List the hypervisor nodes; an admin key also sees capacity and use' })
  listNodes(@CurrentPrincipal() principal: Principal) {
    return this.nodes.list(principal);
  }

  @Post('nodes')
  @AdminOnly()
  @ApiOperation({ summary: 'Register a hypervisor node (admin); 409 NAME_TAKEN for a name another node has' })
  createNode(@Body() dto: CreateNodeDto) {
    return this.nodes.create(dto);
  }

  @Patch('nodes/:id')
  @AdminOnly()
  @ApiOperation({ summary: 'Change a node: status (online, offline, maintenance) or capacity (admin)' })
  updateNode(@Param('id', uuidParam('node id')) id: string, @Body() dto: UpdateNodeDto) {
    return this.nodes.update(id, dto);
  }
}
