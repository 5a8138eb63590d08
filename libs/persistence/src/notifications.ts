import { Client } from 'pg';
import { API_KEY_REVOKED_CHANNEL, OPERATION_EVENTS_CHANNEL } from './migrations/1764060000000-event-notify-and-read-indexes';
import { ANNOUNCED_OPERATION_COLUMNS, ANNOUNCED_TIMESTAMP_COLUMNS } from './migrations/1764140000000-announce-final-record';
import { API_KEY_CHANGED_CHANNEL } from './migrations/1764130000000-api-key-change-notify';
import { parseTimestamptz } from './pg-types';

export { API_KEY_CHANGED_CHANNEL, API_KEY_REVOKED_CHANNEL, OPERATION_EVENTS_CHANNEL };

/** One operation event as NOTIFY announced it (the trigger of operation_events). */
export interface OperationEventNotice {
  eventId: number;
  operationId: string;
  tenantId: string;
  status: string;
  /**
   * With an operation's end: its final record, as a read of the row gives it (its columns by their database names,
   * ANNOUNCED_OPERATION_COLUMNS), unless it was too large to announce.
   */
  record?: Record<string, unknown>;
}

export interface NotificationHandlers {
  operationEvent?(notice: OperationEventNotice): void;
  apiKeyRevoked?(apiKeyId: string): void;
  /** A key was revoked, deleted or changed (its id), or every key may have (`*`: the table was truncated). */
  apiKeyChanged?(apiKeyId: string): void;
  /**
   * The listening connection is (again) up. What was announced while it was down is lost, so a listener
   * catches up from the tables here.
   */
  connected?(): void;
}

/** The listening connection's application_name. */
export const NOTIFICATIONS_APPLICATION_NAME = 'vmops-notifications';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

export function parseOperationEventNotice(payload: string): OperationEventNotice | null {
  const parts = payload.split(' ', 4);
  const [eventId, operationId, tenantId, status] = parts;
  if (!status || !/^\d+$/.test(eventId)) return null;
  const notice: OperationEventNotice = { eventId: Number(eventId), operationId, tenantId, status };
  const rest = payload.slice(parts.join(' ').length + 1);
  if (!rest) return notice;
  try {
    const record = JSON.parse(rest) as Record<string, unknown>;
    if (record.id !== operationId || !ANNOUNCED_OPERATION_COLUMNS.every((c) => c in record)) return notice;
    for (const c of ANNOUNCED_TIMESTAMP_COLUMNS) if (typeof record[c] === 'string') record[c] = parseTimestamptz(record[c] as string);
    notice.record = record;
  } catch {
    // A record that does not parse is no record: the listener reads the row.
  }
  return notice;
}

/**
 * One dedicated connection that LISTENs to the database's announcements (outside the pool: a LISTEN holds its
 * connection for good). It connects again, with a growing pause, whenever the connection fails or the server
 * goes away, and says so through `connected()`.
 */
export class DatabaseNotifications {
  private client: Client | null = null;
  /** A connection being made: every request calls start(), and a burst of them must not each open one. */
  private connecting = false;
  private closed = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly handlers = new Set<NotificationHandlers>();
  /** When the database last said anything on this connection (an announcement, or a probe's answer). */
  private lastHeardAt = 0;
  /** The probe in flight (one at a time: a database that does not answer must not pile probes on the connection). */
  private probing: Promise<void> | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: (message: string) => void = () => undefined,
    private readonly connectTimeoutMs = 5000,
  ) {}

  /** Whether announcements arrive now. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Connects (in the background, retried until it works) and delivers to `handlers` until the returned function is called. */
  subscribe(handlers: NotificationHandlers): () => void {
    this.handlers.add(handlers);
    if (this.client) handlers.connected?.();
    return () => this.handlers.delete(handlers);
  }

  /**
   * Whether the database answers now, as seen on this connection, outside the pool: a request that waited in vain for
   * one of the pool's connections cannot tell a busy pool from a database that stopped answering, and this can. An
   * announcement heard within `withinMs` counts; otherwise a `SELECT 1` is given `withinMs` to be answered. False while
   * the connection is down.
   */
  async answers(withinMs: number): Promise<boolean> {
    if (Date.now() - this.lastHeardAt <= withinMs) return true;
    const client = this.client;
    if (!client) return false;
    const probe = (this.probing ??= client
      .query('SELECT 1')
      .then(
        () => void (this.lastHeardAt = Date.now()),
        () => undefined,
      )
      .finally(() => {
        if (this.probing === probe) this.probing = null;
      }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
    await Promise.race([probe, timedOut]);
    clearTimeout(timer);
    return Date.now() - this.lastHeardAt <= withinMs;
  }

  start(): void {
    if (!this.closed && !this.client && !this.retryTimer && !this.connecting) void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    try {
      await this.listen();
    } finally {
      this.connecting = false;
    }
  }

  private async listen(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: this.connectTimeoutMs,
      keepAlive: true,
      // Named in pg_stat_activity, apart from the pool's connections.
      application_name: NOTIFICATIONS_APPLICATION_NAME,
    });
    let failed = false;
    const lost = (why: string) => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.log(`database notifications lost (${why}); connecting again in ${this.retryMs} ms`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.connect();
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (msg) => {
      this.lastHeardAt = Date.now();
      if (msg.channel === OPERATION_EVENTS_CHANNEL) {
        const notice = msg.payload ? parseOperationEventNotice(msg.payload) : null;
        if (notice) for (const h of this.handlers) h.operationEvent?.(notice);
      } else if (msg.channel === API_KEY_REVOKED_CHANNEL && msg.payload) {
        for (const h of this.handlers) h.apiKeyRevoked?.(msg.payload);
      } else if (msg.channel === API_KEY_CHANGED_CHANNEL && msg.payload) {
        for (const h of this.handlers) h.apiKeyChanged?.(msg.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OPERATION_EVENTS_CHANNEL}`);
      await client.query(`LISTEN ${API_KEY_REVOKED_CHANNEL}`);
      await client.query(`LISTEN ${API_KEY_CHANGED_CHANNEL}`);
    } catch (err) {
      lost(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.closed || failed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RECONNECT_MIN_MS;
    for (const h of this.handlers) h.connected?.();
  }
}
