import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { APP_CONFIG } from '../config.token';
import type { AppConfig } from '@vmops/config';

export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');

/** Asks the Temporal frontend for its system info: resolves if it answers within `timeoutMs`, throws why not otherwise. */
export async function probeTemporal(client: Client, timeoutMs: number): Promise<void> {
  await client.connection.withDeadline(Date.now() + timeoutMs, () => client.connection.workflowService.getSystemInfo({}));
}

/**
 * The Temporal client. The connection is lazy, so the API boots (and /health reports it) while Temporal
 * is still coming up or down.
 */
@Global()
@Module({
  providers: [
    {
      provide: TEMPORAL_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new Client({
          connection: Connection.lazy({ address: config.temporalAddress, connectTimeout: '5 seconds' }),
          namespace: config.temporalNamespace,
        }),
    },
  ],
  exports: [TEMPORAL_CLIENT],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}
