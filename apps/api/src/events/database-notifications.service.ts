import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '@vmops/config';
import { DatabaseNotifications } from '@vmops/persistence';
import { APP_CONFIG } from '../config.token';

/**
 * How long the listening connection is given to say the database answers, once a wait for a pool connection (a
 * request's, or /health's ping) got nothing.
 */
export const DATABASE_PROBE_MS = 1000;

/**
 * The API's one LISTEN connection: operation events and key revocations as the database announces them, for the
 * event stream and /wait. It connects on first use, and again after any loss.
 */
@Injectable()
export class DatabaseNotificationsService extends DatabaseNotifications implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const logger = new Logger(DatabaseNotificationsService.name);
    super(config.databaseUrl, (message) => logger.warn(message), config.dbTimeoutMs || 5000);
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
