import { Controller, Get, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { Client } from '@temporalio/client';
import { Public } from '../auth/auth';
import { ApiError } from '../common/api-error';
import { DATABASE_PROBE_MS, DatabaseNotificationsService } from '../events/database-notifications.service';
import { probeTemporal, TEMPORAL_CLIENT } from '../temporal/temporal.module';

const PROBE_TIMEOUT_MS = 3000;

/**
 * The database, pinged through the API's pool of connections. A ping that gets nothing is told apart as the API's
 * requests are (see ApiExceptionFilter): when the database answers on the listening connection, outside the pool,
 * it is `up` and the pool's connections (`database connections`) are what is down: all busy.
 */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly notifications: DatabaseNotificationsService,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const ping = await this.db.pingCheck('database', { timeout: PROBE_TIMEOUT_MS });
    if (ping.database?.status === 'up') return ping;
    if (!(await this.notifications.answers(DATABASE_PROBE_MS).catch(() => false))) return ping;
    return {
      ...this.indicators.check('database').up({ message: 'answers on the listening connection' }),
      ...this.indicators
        .check('database connections')
        .down({ message: "none of the API's connections came free for the ping: the API is busy" }),
    };
  }
}

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
    private readonly database: DatabaseHealthIndicator,
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
      return await this.health.check([() => this.database.check(), () => this.temporal.check('temporal')]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {});
      throw new ApiError('UNHEALTHY', `not answering: ${down.join(', ')}`, { ...result });
    }
  }
}
