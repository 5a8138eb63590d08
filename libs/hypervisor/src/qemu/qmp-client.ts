import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** An error QEMU answered a command with (`{"error": {"class", "desc"}}`). */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    desc: string,
  ) {
    super(`QMP ${command}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** The QMP socket closed or never answered: the QEMU process is gone or busy. */
export class QmpConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QmpConnectionError';
  }
}

/** The parts of QMP replies the driver reads (QEMU's QAPI schema documents the rest). */
export interface QmpBlockJob {
  device: string;
  len: number;
  offset: number;
  ready: boolean;
}
export interface QmpBlockNode {
  'node-name': string;
}
export interface QmpBlockStats {
  stats?: Record<string, number>;
}
export interface QmpMigrationInfo {
  /** Absent before any migration was started. */
  status?: string;
  'error-desc'?: string;
}

/** A line QEMU sent: its greeting, an event, or the reply to command `id`. */
interface QmpMessage {
  QMP?: unknown;
  event?: string;
  id?: string;
  return?: unknown;
  error?: { class: string; desc: string };
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A QEMU Machine Protocol client over a unix socket: one JSON object per line each way. Replies are matched to
 * their commands by `id`, so commands may overlap; events arrive interleaved and are emitted as 'event'.
 * 'close' is emitted once the socket is gone (QEMU quit), and every pending command fails then.
 */
export class QmpClient extends EventEmitter {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly idleCloseMs: number,
  ) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('close', () => this.fail(new QmpConnectionError('the QMP socket closed')));
    socket.on('error', (err) => this.fail(new QmpConnectionError(`QMP socket: ${err.message}`)));
  }

  /**
   * Connects, reads the greeting and leaves capabilities negotiation mode. A QMP socket serves one client at a
   * time (the next one waits for its greeting), so a client closes itself once nothing was asked of it and
   * nobody waited for an event for `idleCloseMs`.
   */
  static async connect(path: string, timeoutMs = 5000, idleCloseMs = 1000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new QmpConnectionError(`QMP socket ${path} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new QmpConnectionError(`QMP socket ${path}: ${err.message}`));
      });
    });
    const client = new QmpClient(socket, idleCloseMs);
    await client.greeting(timeoutMs);
    await client.execute('qmp_capabilities');
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs one command; resolves with its `return`, rejects with QmpCommandError or QmpConnectionError. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new QmpConnectionError('the QMP socket is closed'));
    const id = `c${this.nextId++}`;
    this.notIdle();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpConnectionError(`QMP ${command} got no answer in ${timeoutMs} ms`));
        this.maybeIdle();
      }, timeoutMs);
      // The reply's `return` is what QEMU documents for the command: the caller names it as T.
      this.pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
    });
  }

  /** Resolves with the first event named `name` that `match` accepts, arriving within the timeout. */
  waitForEvent(name: string, match: (e: QmpEvent) => boolean = () => true, timeoutMs = 30_000): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
        fn();
        this.maybeIdle();
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event === name && match(e)) done(() => resolve(e));
      };
      const onClose = () => done(() => reject(new QmpConnectionError(`the QMP socket closed while waiting for ${name}`)));
      const timer = setTimeout(() => done(() => reject(new QmpConnectionError(`no ${name} event in ${timeoutMs} ms`))), timeoutMs);
      this.notIdle();
      this.on('event', onEvent);
      this.once('close', onClose);
    });
  }

  private notIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private maybeIdle(): void {
    if (this.closed || this.pending.size || this.listenerCount('event') || this.idleTimer) return;
    this.idleTimer = setTimeout(() => this.close(), this.idleCloseMs);
    this.idleTimer.unref();
  }

  close(): void {
    this.socket.destroy();
  }

  private greetingWaiter?: { resolve: () => void; reject: (e: Error) => void };

  private greeting(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new QmpConnectionError(`no QMP greeting in ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let message: QmpMessage;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (message.QMP) {
        this.greetingWaiter?.resolve();
        this.greetingWaiter = undefined;
      } else if (message.event) {
        this.emit('event', message as unknown as QmpEvent);
      } else if (message.id !== undefined) {
        const p = this.pending.get(message.id);
        if (!p) continue;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.error) p.reject(new QmpCommandError(p.command, message.error.class, message.error.desc));
        else p.resolve(message.return);
        this.maybeIdle();
      }
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.notIdle();
    this.greetingWaiter?.reject(error);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.emit('close');
  }
}
