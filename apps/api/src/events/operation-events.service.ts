import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { OperationStatus, OperationType } from '@vmops/contracts';
import { Observable, Subject } from 'rxjs';
import type { DataSource } from 'typeorm';
import { coalescing } from '../common/coalescing';
import { DatabaseNotificationsService } from './database-notifications.service';

export interface OperationEvent {
  /** The SSE event id: resume after it with Last-Event-ID. */
  id: number;
  tenantId: string;
  operationId: string;
  type: OperationType;
  vmId: string | null;
  status: OperationStatus;
  at: string;
}

/**
 * Events are read when the database announces them (NOTIFY); this read runs anyway, in case an announcement was
 * lost with the listening connection, and to find keys revoked meanwhile.
 */
const FALLBACK_POLL_MS = 1000;
/**
 * Event ids come from a sequence, so a transaction that commits late leaves a gap that fills a moment
 * later. Events after a gap wait this long for it before the gap is taken as a rolled-back id.
 */
const GAP_WAIT_MS = 2000;
const BATCH = 500;

const SELECT_EVENTS = `
  SELECT e.id, e.tenant_id, e.operation_id, e.status, e.created_at, o.type, o.vm_id
    FROM operation_events e JOIN operations o ON o.id = e.operation_id`;

function toEvent(row: Record<string, unknown>): OperationEvent {
  return {
    id: Number(row.id),
    tenantId: String(row.tenant_id),
    operationId: String(row.operation_id),
    type: row.type as OperationType,
    vmId: (row.vm_id as string | null) ?? null,
    status: row.status as OperationStatus,
    at: new Date(row.created_at as string).toISOString(),
  };
}

/**
 * The tenant's stream of operation state changes, from the trigger-fed operation_events log. One reader per API
 * process serves every connection: it reads the log when the database announces an event, and once a second
 * besides; it runs only while someone listens.
 */
@Injectable()
export class OperationEventsService implements OnModuleDestroy {
  private readonly logger = new Logger(OperationEventsService.name);
  private readonly live = new Subject<OperationEvent>();
  /** The API keys of the open streams (how many streams each); a revoked one's streams end at the next poll. */
  private readonly keys = new Map<string, number>();
  private readonly revoked = new Subject<string>();
  private listeners = 0;
  private cursor: number | null = null;
  private gapSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The next read also looks for revoked keys. */
  private checkKeys = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: DatabaseNotificationsService,
  ) {}

  /**
   * Every change of the tenant's operations after `afterId` (or from now on), in order, without duplicates. The
   * stream ends as soon as `apiKeyId`, the key that opened it, is revoked.
   */
  stream(tenantId: string, afterId: number | null, apiKeyId: string): Observable<OperationEvent> {
    return new Observable<OperationEvent>((subscriber) => {
      // Live events that arrive during the catch-up wait in `buffered`; `last` drops any seen twice.
      let last = afterId ?? 0;
      let caughtUp = false;
      const buffered: OperationEvent[] = [];
      const emit = (event: OperationEvent) => {
        if (event.id <= last) return;
        last = event.id;
        subscriber.next(event);
      };
      const subscription = this.live.subscribe((event) => {
        if (event.tenantId !== tenantId) return;
        if (caughtUp) emit(event);
        else buffered.push(event);
      });
      subscription.add(this.revoked.subscribe((keyId) => keyId === apiKeyId && subscriber.complete()));
      this.keys.set(apiKeyId, (this.keys.get(apiKeyId) ?? 0) + 1);
      this.addListener()
        .then(async (start) => {
          if (afterId === null) {
            last = start;
          } else {
            const rows = await this.dataSource.query(`${SELECT_EVENTS} WHERE e.tenant_id = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id`, [
              tenantId,
              afterId,
              start,
            ]);
            rows.map(toEvent).forEach(emit);
          }
          buffered.splice(0).forEach(emit);
          caughtUp = true;
        })
        .catch((err) => subscriber.error(err));
      return () => {
        subscription.unsubscribe();
        const streams = (this.keys.get(apiKeyId) ?? 1) - 1;
        if (streams > 0) this.keys.set(apiKeyId, streams);
        else this.keys.delete(apiKeyId);
        this.removeListener();
      };
    });
  }

  onModuleDestroy(): void {
    this.stop();
    this.live.complete();
    this.revoked.complete();
  }

  /** Starts the reader if needed; resolves to the id up to which events have been (or will be) published live. */
  private async addListener(): Promise<number> {
    this.listeners += 1;
    if (this.cursor === null) {
      this.notifications.start();
      const [{ max }] = await this.dataSource.query(`SELECT coalesce(max(id), 0) AS max FROM operation_events`);
      if (this.cursor === null && this.listeners > 0) {
        this.cursor = Number(max);
        this.unsubscribe = this.notifications.subscribe({
          operationEvent: () => this.read(false),
          apiKeyRevoked: (keyId) => this.keys.has(keyId) && this.revoked.next(keyId),
          connected: () => this.read(true),
        });
        this.timer = setInterval(() => this.read(true), FALLBACK_POLL_MS);
      }
    }
    return this.cursor ?? 0;
  }

  private removeListener(): void {
    this.listeners -= 1;
    if (this.listeners === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cursor = null;
    this.gapSince = null;
  }

  /** Reads the log now, or right after the read under way; `checkKeys` also looks for revoked keys. */
  private read(checkKeys: boolean): void {
    if (this.cursor === null) return;
    this.checkKeys ||= checkKeys;
    this.readLog();
  }

  private readonly readLog = coalescing(() => {
    const checkKeys = this.checkKeys;
    this.checkKeys = false;
    return this.poll(checkKeys).catch((err) => this.logger.warn(`event read failed: ${err instanceof Error ? err.message : err}`));
  });

  private async poll(checkKeys: boolean): Promise<void> {
    if (this.cursor === null) return;
    if (checkKeys && this.keys.size) {
      const revoked: { id: string }[] = await this.dataSource.query(
        `SELECT id FROM api_keys WHERE id = ANY($1::uuid[]) AND revoked_at IS NOT NULL`,
        [[...this.keys.keys()]],
      );
      for (const { id } of revoked) this.revoked.next(id);
    }
    const rows: Record<string, unknown>[] = await this.dataSource.query(`${SELECT_EVENTS} WHERE e.id > $1 ORDER BY e.id LIMIT ${BATCH}`, [
      this.cursor,
    ]);
    if (rows.length === BATCH) this.readLog();
    for (const event of rows.map(toEvent)) {
      if (this.cursor === null) return;
      if (event.id !== this.cursor + 1) {
        this.gapSince ??= Date.now();
        if (Date.now() - this.gapSince < GAP_WAIT_MS) return;
      }
      this.gapSince = null;
      this.cursor = event.id;
      this.live.next(event);
    }
  }
}
