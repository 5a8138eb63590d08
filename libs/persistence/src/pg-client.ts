import { Client, Query, type ClientConfig } from 'pg';

/** How our pools' clients are configured: pg's own settings, and the read timeout this client keeps itself. */
export interface DatabaseClientConfig extends ClientConfig {
  /**
   * How long a query may go unanswered by the server (0: no limit). Past it, the query fails with pg's own
   * `Query read timeout` and the connection is closed. This replaces pg's `query_timeout`, which must not be set.
   */
  readTimeoutMs?: number;
}

type QueryCallback = (err: Error | null | undefined, result?: unknown) => void;

/** A query on its way: its callback until it is answered or timed out, and its read timer. */
interface Pending {
  callback: QueryCallback | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The client of every pool our data sources make (`extra.Client`): pg's Client, but a query is made with its callback
 * already in it, and the read timeout is kept here. pg gives a query its callback after making it, on its promise path
 * and again for `query_timeout`. In V8 that store is what makes a query's result outlive it: each young-generation
 * collection of the API copied the last pages' rows into the old generation (1.5 MB each time, with a pause of 4.5 ms
 * on average; 0.15 MB and 1.4 ms with this client: docs/performance.md, run 15).
 *
 * Nothing this client keeps for a query refers to its result once the query is answered. Cursors and streams
 * (`Submittable`s) go to pg unchanged, without a read timeout; none is used here.
 */
export class DatabaseClient extends Client {
  private readonly readTimeoutMs: number;

  constructor(config: DatabaseClientConfig = {}) {
    const { readTimeoutMs = 0, ...settings } = config;
    if ((settings as { query_timeout?: unknown }).query_timeout !== undefined)
      throw new Error('DatabaseClient keeps the read timeout itself: give readTimeoutMs, not query_timeout');
    super(settings);
    this.readTimeoutMs = readTimeoutMs;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one body for all of pg's query() overloads, which it keeps
  override query(config: any, values?: any, callback?: any): any {
    // pg's own answer to these: a submittable runs as it is; no query, or a callback that is not one, is a TypeError.
    if (config == null || typeof config.submit === 'function' || (callback !== undefined && typeof callback !== 'function'))
      return super.query(config, values, callback);
    if (typeof values === 'function') return this.submit(config, undefined, values);
    if (typeof callback === 'function') return this.submit(config, values, callback);
    let settle: { resolve: (result: unknown) => void; reject: (err: Error) => void } | undefined;
    const answered = new Promise((resolve, reject) => (settle = { resolve, reject }));
    this.submit(config, values, (err, result) => {
      const s = settle;
      settle = undefined;
      if (err) s?.reject(err);
      else s?.resolve(result);
    });
    // As pg does: a failed query's stack leads back to the code that made it, not to the socket that answered.
    return answered.catch((err: Error) => {
      Error.captureStackTrace(err);
      throw err;
    });
  }

  private submit(config: unknown, values: unknown, callback: QueryCallback): undefined {
    const pending: Pending = { callback, timer: undefined };
    const query = new Query(config as string, values as unknown[], (err, result) => {
      const answer = pending.callback;
      pending.callback = undefined;
      clearTimeout(pending.timer);
      pending.timer = undefined;
      answer?.(err, result);
    });
    if (this.readTimeoutMs > 0) pending.timer = setTimeout(() => this.readTimedOut(pending), this.readTimeoutMs);
    super.query(query);
    return undefined;
  }

  /**
   * The server did not answer in time: the query fails, and the connection is ended (its socket closed, since a query
   * is in flight) rather than handed out again with an unanswered query ahead of the next one, as pg's own timeout
   * leaves it. Queries queued behind it fail with "Connection terminated"; the pool makes a new connection.
   */
  private readTimedOut(pending: Pending): void {
    const answer = pending.callback;
    pending.callback = undefined;
    pending.timer = undefined;
    if (!answer) return;
    answer(new Error('Query read timeout'));
    void this.end();
  }
}
