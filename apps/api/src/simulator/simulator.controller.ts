import { Body, Controller, Delete, Get, HttpCode, Inject, OnApplicationShutdown, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { AppConfig } from '@vmops/config';
import { serialParam } from '../common/params';
import type { DriverMethod } from '@vmops/driver';
import { SimulatorControl, type FaultSpec, type LatencySpec } from '@vmops/hypervisor';
import { AdminOnly } from '../auth/auth';
import { notFound } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { InjectFaultDto, SetLatencyDto } from './simulator.dto';

/**
 * Run-time controls of the simulated hypervisor (the default driver): faults, latency and call counts, shared
 * with every agent through the simulator's store. For tests, demos and game days; a real driver has none.
 */
@ApiTags('simulator')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/simulator')
export class SimulatorController implements OnApplicationShutdown {
  private readonly control: SimulatorControl;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.control = new SimulatorControl({ databaseUrl: config.simulator.databaseUrl, schema: config.simulator.schema, poolSize: 2 });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.control.close();
  }

  @Get('faults')
  @ApiOperation({ summary: 'List the injected faults, with how many calls each has seen and failed' })
  async listFaults() {
    return { items: await this.control.listFaults() };
  }

  @Post('faults')
  @ApiOperation({
    summary: 'Inject a fault into a driver method',
    description:
      'Example: {"method":"attachDisk","skipCalls":2,"failCalls":1,"error":"invalid_state"} fails the 3rd attachDisk call permanently. error "unavailable" is transient: the step retries.',
  })
  injectFault(@Body() dto: InjectFaultDto) {
    return this.control.injectFault(dto as FaultSpec);
  }

  @Delete('faults')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove every injected fault' })
  async clearFaults(): Promise<void> {
    await this.control.clearFaults();
  }

  @Delete('faults/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove one injected fault' })
  async clearFault(@Param('id', serialParam('fault id')) id: number): Promise<void> {
    if (!(await this.control.clearFaults(id))) throw notFound('fault', String(id));
  }

  @Get('latency')
  @ApiOperation({ summary: 'List the per-method latencies in force' })
  async listLatency() {
    return { items: await this.control.listLatency() };
  }

  @Put('latency')
  @ApiOperation({ summary: 'Set the latency of a driver method (or * for all), on one node or all' })
  async setLatency(@Body() dto: SetLatencyDto) {
    await this.control.setLatency(dto as LatencySpec);
    return { items: await this.control.listLatency() };
  }

  @Delete('latency')
  @HttpCode(204)
  @ApiOperation({ summary: 'Back to the configured latency for every method' })
  async clearLatency(): Promise<void> {
    await this.control.clearLatency();
  }

  @Get('calls')
  @ApiOperation({ summary: 'How many driver calls the simulator has taken, failed ones included' })
  @ApiQuery({ name: 'method', required: false })
  @ApiQuery({ name: 'nodeId', required: false })
  async calls(@Query('method') method?: string, @Query('nodeId') nodeId?: string) {
    return {
      method: method ?? null,
      nodeId: nodeId ?? null,
      count: await this.control.callCount(method as DriverMethod | undefined, nodeId),
    };
  }
}
