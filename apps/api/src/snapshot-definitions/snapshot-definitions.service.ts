import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { AppConfig } from '@vmops/config';
import { TenantIdKey, VmIdKey, type ScheduledSnapshotInput } from '@vmops/contracts';
import { deleteQueuedSchedules } from '@vmops/persistence';
import { CronExpressionParser } from 'cron-parser';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, isUniqueViolation, notFound } from '../common/api-error';
import { APP_CONFIG } from '../config.token';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module';

/** Erigones' predefined definitions: their schedule (UTC) and retention when the request leaves them out. */
export const PREDEFINED: Record<string, { schedule: string; retention: number }> = {
  hourly: { schedule: '0 * * * *', retention: 24 },
  daily: { schedule: '30 5 * * *', retention: 30 },
  weekly: { schedule: '0 4 * * 0', retention: 8 },
  monthly: { schedule: '0 3 1 * *', retention: 12 },
};

export type OnBusy = 'skip' | 'retry';

export interface SnapshotDefinitionView {
  id: string;
  name: string;
  vmId: string;
  diskId: string;
  /** Five-field cron, UTC. */
  schedule: string;
  /** The most automatic snapshots of this definition kept; older ones are deleted after each run. */
  retention: number;
  active: boolean;
  fsfreeze: boolean;
  onBusy: OnBusy;
  description: string | null;
  /** The Temporal Schedule that runs it (Temporal UI → Schedules). */
  scheduleId: string;
  /** When it runs next; null while inactive. */
  nextRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface DefinitionRow {
  id: string;
  tenant_id: string;
  vm_id: string;
  disk_id: string;
  name: string;
  schedule: string;
  retention: number;
  active: boolean;
  fsfreeze: boolean;
  on_busy: OnBusy;
  description: string | null;
  schedule_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface DefinitionFields {
  schedule?: string;
  retention?: number;
  active?: boolean;
  fsfreeze?: boolean;
  onBusy?: OnBusy;
  description?: string | null;
}

/** 400 unless `schedule` is a five-field cron expression (minute hour day-of-month month day-of-week, UTC). */
export function parseSchedule(schedule: string): void {
  const fields = schedule.trim().split(/\s+/);
  const invalid = (why: string) =>
    new ApiError('VALIDATION_FAILED', `schedule "${schedule}" is not a cron expression: ${why}`, {
      fields: [
        {
          field: 'schedule',
          problems: [`${why}; expected five fields, minute hour day-of-month month day-of-week, in UTC (e.g. "30 4 * * 6")`],
        },
      ],
    });
  if (fields.length !== 5) throw invalid(`it has ${fields.length} field(s)`);
  try {
    CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', strict: false });
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

function nextRun(row: DefinitionRow): string | null {
  return row.active ? CronExpressionParser.parse(row.schedule, { tz: 'UTC' }).next().toISOString() : null;
}

const toView = (r: DefinitionRow): SnapshotDefinitionView => ({
  id: r.id,
  name: r.name,
  vmId: r.vm_id,
  diskId: r.disk_id,
  schedule: r.schedule,
  retention: r.retention,
  active: r.active,
  fsfreeze: r.fsfreeze,
  onBusy: r.on_busy,
  description: r.description,
  scheduleId: r.schedule_id,
  nextRunAt: nextRun(r),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/**
 * Snapshot definitions (Erigones define/snapshot): per VM disk, a cron schedule (UTC) and a retention. Each is a
 * Temporal Schedule, paused while inactive, whose runs (scheduledSnapshotWorkflow) take a snapshot as a normal
 * snapshot.create operation and then prune the definition's automatic snapshots beyond the retention. The row and
 * its schedule change in one transaction: a failed Temporal call changes neither.
 */
@Injectable()
export class SnapshotDefinitionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(principal: Principal, vmId: string, diskId?: string): Promise<{ items: SnapshotDefinitionView[] }> {
    await this.vmOf(this.dataSource.manager, principal, vmId);
    const rows: DefinitionRow[] = await this.dataSource.query(
      `SELECT d.* FROM snapshot_definitions d JOIN disks k ON k.id = d.disk_id WHERE d.vm_id = $1 AND ($2::uuid IS NULL OR d.disk_id = $2) ORDER BY k.position NULLS LAST, d.name`,
      [vmId, diskId ?? null],
    );
    return { items: rows.map(toView) };
  }

  async get(principal: Principal, vmId: string, name: string, diskId?: string): Promise<SnapshotDefinitionView> {
    return toView(await this.definitionOf(this.dataSource.manager, principal, vmId, name, diskId));
  }

  create(principal: Principal, vmId: string, dto: DefinitionFields & { name: string; diskId?: string }): Promise<SnapshotDefinitionView> {
    const preset = PREDEFINED[dto.name];
    const schedule = dto.schedule ?? preset?.schedule;
    const retention = dto.retention ?? preset?.retention;
    if (schedule === undefined || retention === undefined) {
      const missing = [schedule === undefined ? 'schedule' : null, retention === undefined ? 'retention' : null].filter(
        Boolean,
      ) as string[];
      throw new ApiError(
        'VALIDATION_FAILED',
        `${missing.join(' and ')} must be given: only ${Object.keys(PREDEFINED).join(', ')} have defaults`,
        {
          fields: missing.map((field) => ({ field, problems: ['required for a definition that is not predefined'] })),
        },
      );
    }
    parseSchedule(schedule);
    return this.dataSource.transaction(async (tx) => {
      const vm = await this.vmOf(tx, principal, vmId);
      const disk = await this.diskOf(tx, vmId, dto.diskId);
      const id = randomUUID();
      const scheduleId = `snapshot-${vm.hostname}-${dto.name}-${id.slice(0, 8)}`;
      try {
        await tx.query(
          `INSERT INTO snapshot_definitions (id, tenant_id, vm_id, disk_id, name, schedule, retention, active, fsfreeze, on_busy, description, schedule_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            id,
            principal.tenantId,
            vmId,
            disk.id,
            dto.name,
            schedule,
            retention,
            dto.active ?? true,
            dto.fsfreeze ?? false,
            dto.onBusy ?? 'retry',
            dto.description ?? null,
            scheduleId,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new ApiError('NAME_TAKEN', `disk ${disk.id} of ${vm.hostname} already has a snapshot definition named ${dto.name}`, {
            name: dto.name,
          });
        }
        throw err;
      }
      const [row]: DefinitionRow[] = await tx.query(`SELECT * FROM snapshot_definitions WHERE id = $1`, [id]);
      // Inside the transaction: a schedule that could not be made leaves no definition behind.
      await this.temporal.schedule.create(this.scheduleOptions(row, vm.hostname));
      return toView(row);
    });
  }

  update(
    principal: Principal,
    vmId: string,
    name: string,
    diskId: string | undefined,
    dto: DefinitionFields,
  ): Promise<SnapshotDefinitionView> {
    if (dto.schedule !== undefined) parseSchedule(dto.schedule);
    return this.dataSource.transaction(async (tx) => {
      const current = await this.definitionOf(tx, principal, vmId, name, diskId, true);
      const [[row]]: [DefinitionRow[]] = await tx.query(
        `UPDATE snapshot_definitions SET schedule = $2, retention = $3, active = $4, fsfreeze = $5, on_busy = $6, description = $7, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [
          current.id,
          dto.schedule ?? current.schedule,
          dto.retention ?? current.retention,
          dto.active ?? current.active,
          dto.fsfreeze ?? current.fsfreeze,
          dto.onBusy ?? current.on_busy,
          dto.description === undefined ? current.description : dto.description,
        ],
      );
      const vm = await this.vmOf(tx, principal, vmId);
      const { spec, action, state } = this.scheduleOptions(row, vm.hostname);
      await this.temporal.schedule
        .getHandle(row.schedule_id)
        .update((previous) => ({ ...previous, spec, action, state: { ...previous.state, paused: state!.paused, note: state!.note } }));
      return toView(row);
    });
  }

  /** Deletes the definition and its schedule; the snapshots it took stay (as automatic, of no definition). */
  async delete(principal: Principal, vmId: string, name: string, diskId?: string): Promise<void> {
    const scheduleId = await this.dataSource.transaction(async (tx) => {
      const row = await this.definitionOf(tx, principal, vmId, name, diskId, true);
      await tx.query(`DELETE FROM snapshot_definitions WHERE id = $1`, [row.id]);
      return row.schedule_id;
    });
    // Queued by the delete's trigger; if Temporal cannot be reached now, the reconciler deletes it later.
    await deleteQueuedSchedules(this.dataSource, (id) => this.temporal.schedule.getHandle(id).delete().catch(ignoreMissing), [
      scheduleId,
    ]).catch(() => undefined);
  }

  /** Runs the definition now, as its schedule would (Temporal's trigger): the run shows among the schedule's actions. */
  async runNow(principal: Principal, vmId: string, name: string, diskId?: string): Promise<{ scheduleId: string; triggered: true }> {
    const row = await this.definitionOf(this.dataSource.manager, principal, vmId, name, diskId);
    if (!row.active) {
      throw new ApiError('DEFINITION_INACTIVE', `snapshot definition ${name} is inactive; activate it first`, { active: false });
    }
    await this.temporal.schedule.getHandle(row.schedule_id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    return { scheduleId: row.schedule_id, triggered: true };
  }

  private scheduleOptions(row: DefinitionRow, hostname: string): ScheduleOptions {
    const input: ScheduledSnapshotInput = { definitionId: row.id, scheduleId: row.schedule_id, busyRetry: this.config.snapshotBusyRetry };
    return {
      scheduleId: row.schedule_id,
      spec: { cronExpressions: [row.schedule] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledSnapshotWorkflow',
        workflowId: `snapshot-run-${hostname}-${row.name}`,
        taskQueue: this.config.temporalTaskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: TenantIdKey, value: row.tenant_id },
          { key: VmIdKey, value: row.vm_id },
        ],
        staticSummary: `Scheduled snapshot ${row.name} of ${hostname}, keeping ${row.retention}`,
      },
      // A run still waiting on a busy VM when the next one is due: the next one is skipped.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '5 minutes' },
      state: {
        paused: !row.active,
        note: `${row.active ? 'Active' : 'Inactive'}: snapshot definition ${row.name} of ${hostname} (disk ${row.disk_id}), ${row.schedule} UTC, keeping ${row.retention}`,
      },
      memo: { definitionId: row.id, vmId: row.vm_id, diskId: row.disk_id },
    };
  }

  private async vmOf(m: EntityManager, principal: Principal, vmId: string): Promise<{ id: string; hostname: string }> {
    const [vm] = await m.query(`SELECT id, hostname FROM vms WHERE id = $1 AND tenant_id = $2`, [vmId, principal.tenantId]);
    if (!vm) throw notFound('VM', vmId);
    return vm;
  }

  private async diskOf(m: EntityManager, vmId: string, diskId?: string): Promise<{ id: string }> {
    const [disk] = diskId
      ? await m.query(`SELECT id FROM disks WHERE id = $1 AND vm_id = $2`, [diskId, vmId])
      : await m.query(`SELECT id FROM disks WHERE vm_id = $1 AND position = 0`, [vmId]);
    if (!disk) throw invalidParameter('diskId', diskId ? `VM ${vmId} has no disk ${diskId}` : `VM ${vmId} has no system disk`);
    return disk;
  }

  private async definitionOf(
    m: EntityManager,
    principal: Principal,
    vmId: string,
    name: string,
    diskId?: string,
    lock = false,
  ): Promise<DefinitionRow> {
    await this.vmOf(m, principal, vmId);
    const disk = await this.diskOf(m, vmId, diskId);
    const [row] = await m.query(`SELECT * FROM snapshot_definitions WHERE disk_id = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`, [
      disk.id,
      name,
    ]);
    if (!row)
      throw new ApiError('NOT_FOUND', `disk ${disk.id} of VM ${vmId} has no snapshot definition named ${name}`, { name, diskId: disk.id });
    return row;
  }
}

function ignoreMissing(err: unknown): void {
  if (!(err instanceof ScheduleNotFoundError)) throw err;
}
