import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '@vmops/config';
import {
  ApiKeyEntity,
  dataSourceOptions,
  DiskEntity,
  NetworkInterfaceEntity,
  NodeEntity,
  OperationEntity,
  TemplateEntity,
  VmEntity,
} from '@vmops/persistence';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysService } from './api-keys/api-keys.service';
import { ApiKeyLookup } from './auth/api-key-lookup';
import { ApiKeyGuard } from './auth/auth';
import { CatalogController } from './catalog/catalog.controller';
import { NodesService } from './catalog/nodes.service';
import { ApiExceptionFilter } from './common/exception.filter';
import { DisksController } from './disks/disks.controller';
import { DisksService } from './disks/disks.service';
import { AntiAffinityController } from './anti-affinity/anti-affinity.controller';
import { AntiAffinityService } from './anti-affinity/anti-affinity.service';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { InterfacesController } from './interfaces/interfaces.controller';
import { InterfacesService } from './interfaces/interfaces.service';
import { EventsController } from './events/events.controller';
import { DatabaseNotificationsService } from './events/database-notifications.service';
import { OperationEventsService } from './events/operation-events.service';
import { APP_CONFIG } from './config.token';
import { DatabaseHealthIndicator, HealthController, TemporalHealthIndicator } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { OperationMetrics } from './metrics/metrics.service';
import { NodeAuditController } from './nodes/node-audit.controller';
import { NodeAuditService } from './nodes/node-audit.service';
import { NodeReader } from './nodes/node-reader.service';
import { SimulatorController } from './simulator/simulator.controller';
import { SnapshotDefinitionsController } from './snapshot-definitions/snapshot-definitions.controller';
import { SnapshotDefinitionsService } from './snapshot-definitions/snapshot-definitions.service';
import { SnapshotsController } from './snapshots/snapshots.controller';
import { SnapshotsService } from './snapshots/snapshots.service';
import { OperationsController } from './operations/operations.controller';
import { OperationsService } from './operations/operations.service';
import { VmLockService } from './operations/vm-lock.service';
import { TemporalModule } from './temporal/temporal.module';
import { VmsController } from './vms/vms.controller';
import { VmLifecycleService } from './vms/vm-lifecycle.service';
import { VmsService } from './vms/vms.service';
import { MigrationService } from './vms/migration.service';
import { CopyDiskModule } from './disks/disk.copy.endpoint';

/**
 * Global: every resource's service launches operations (OperationsService) and takes VM locks (VmLockService); every
 * request's key is looked up by ApiKeyLookup, which follows the database's announcements as /wait and the event
 * stream do (DatabaseNotificationsService, the API's one listening connection).
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OperationEntity])],
  controllers: [OperationsController, EventsController],
  providers: [OperationsService, VmLockService, OperationEventsService, DatabaseNotificationsService, ApiKeyLookup],
  exports: [OperationsService, VmLockService, ApiKeyLookup, DatabaseNotificationsService],
})
export class OperationsModule {}

/** Reads of a node's hypervisor, through its agent. */
@Module({
  providers: [NodeReader],
  exports: [NodeReader],
})
export class NodesModule {}

@Module({
  imports: [TypeOrmModule.forFeature([VmEntity, DiskEntity, NetworkInterfaceEntity, TemplateEntity]), OperationsModule, NodesModule],
  controllers: [VmsController],
  providers: [VmsService, VmLifecycleService, MigrationService],
})
export class VmsModule {}

@Module({
  imports: [OperationsModule],
  controllers: [SnapshotsController, SnapshotDefinitionsController],
  providers: [SnapshotsService, SnapshotDefinitionsService],
})
export class SnapshotsModule {}

@Module({
  imports: [OperationsModule],
  controllers: [DisksController],
  providers: [DisksService],
})
export class DisksModule {}

@Module({
  imports: [OperationsModule],
  controllers: [InterfacesController],
  providers: [InterfacesService],
})
export class InterfacesModule {}

@Module({
  controllers: [AntiAffinityController],
  providers: [AntiAffinityService],
})
export class AntiAffinityModule {}

@Module({
  imports: [TypeOrmModule.forFeature([NodeEntity])],
  controllers: [CatalogController],
  providers: [NodesService],
})
export class CatalogModule {}

@Module({
  imports: [OperationsModule],
  controllers: [TemplatesController],
  providers: [TemplatesService],
})
export class TemplatesModule {}

@Module({
  imports: [OperationsModule, NodesModule],
  controllers: [AdminController, NodeAuditController],
  providers: [AdminService, NodeAuditService],
})
export class AdminModule {}

/** The simulated hypervisor's admin endpoints, served only where the nodes run it (config.simulatorEndpoints). */
@Module({
  controllers: [SimulatorController],
})
export class SimulatorModule {}

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  controllers: [ApiKeysController],
  providers: [ApiKeysService],
})
export class ApiKeysModule {}

@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [TemporalHealthIndicator, DatabaseHealthIndicator, OperationMetrics],
})
export class HealthModule {}

@Module({})
export class AppModule {
  /** The whole API for a validated configuration (from loadConfig at boot, or from a test). */
  static forConfig(config: AppConfig): DynamicModule {
    const configModule: DynamicModule = {
      module: class ConfigHolderModule {},
      global: true,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
    return {
      module: AppModule,
      imports: [
        configModule,
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            databaseUrl: config.databaseUrl,
            poolSize: config.dbPoolSize,
            timeoutMs: config.dbTimeoutMs,
            poolWaitMs: config.dbPoolWaitMs,
          }),
          retryAttempts: 3,
        }),
        TemporalModule,
        OperationsModule,
        VmsModule,
        SnapshotsModule,
        DisksModule,
        InterfacesModule,
        AntiAffinityModule,
        CatalogModule,
        TemplatesModule,
        ApiKeysModule,
        AdminModule,
        ...(config.simulatorEndpoints ? [SimulatorModule] : []),
        HealthModule,
        CopyDiskModule,
        // Operations added by `npm run new:operation` register their endpoint's module here.
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
