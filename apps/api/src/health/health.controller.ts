import { Controller, Get, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { Client } from '@temporalio/client';
import { Public } from '../auth/auth';
import { ApiError } from '../common/api-error';
import { probeTemporal, TEMPORAL_CLIENT } from '../temporal/temporal.module';

const PROBE_TIMEOUT_MS = 3000;

@Injectable()
export class TemporalHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
  ) {}

  async check(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await probeTemporal(this.client, PROBE_TIMEOUT_MS);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly temporal: TemporalHealthIndicator,
  ) {}

  /** 200 when PostgreSQL and Temporal answer; 503 naming the dependency that does not. */
  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Whether the API, its database and the workflow service answer (no API key needed): 200, or 503 UNHEALTHY naming what does not',
  })
  async check() {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: PROBE_TIMEOUT_MS }),
        () => this.temporal.check('temporal'),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {});
      throw new ApiError('UNHEALTHY', `not answering: ${down.join(', ')}`, { ...result });
    }
  }
}
