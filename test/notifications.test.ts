import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DatabaseNotifications, OPERATION_EVENTS_CHANNEL, type OperationEventNotice } from '../libs/persistence/src';

/**
 * The API's one listening connection (DatabaseNotifications). Every authenticated request calls start(): a burst of
 * them while the connection is being made — the first requests after a start, or after the connection was lost —
 * must still open one connection, not one each (a thousand of them exhausted PostgreSQL's connections, and the
 * agents' and workers' calls failed with "too many clients").
 */
describe('database notifications: one listening connection', () => {
  const databaseUrl = process.env.VMOPS_TEST_DATABASE_URL!;
  const admin = new Client({ connectionString: databaseUrl });
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(() => admin.connect());
  afterAll(() => admin.end());

  const connectionsOf = async (name: string) =>
    Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1`, [name])).rows[0].n);

  it('opens one connection for a burst of requests, at first and again after the server drops it, and delivers what is announced', async () => {
    const name = `vmops-notify-${randomUUID().slice(0, 8)}`;
    const url = new URL(databaseUrl);
    url.searchParams.set('application_name', name);
    const notifications = new DatabaseNotifications(url.toString());
    const heard: OperationEventNotice[] = [];
    let connects = 0;
    notifications.subscribe({ operationEvent: (n) => heard.push(n), connected: () => (connects += 1) });
    try {
      for (let i = 0; i < 200; i++) notifications.start();
      await until('the first connection', () => notifications.listening);
      expect(await connectionsOf(name)).toBe(1);

      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [name]);
      await until('the loss to be noticed', () => !notifications.listening);
      // Requests keep coming while it connects again.
      const burst = setInterval(() => {
        for (let i = 0; i < 50; i++) notifications.start();
      }, 5);
      try {
        await until('the connection again', () => notifications.listening);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        clearInterval(burst);
      }
      expect(await connectionsOf(name)).toBe(1);
      expect(connects).toBe(2);

      const operationId = randomUUID();
      await admin.query(`SELECT pg_notify($1, $2)`, [OPERATION_EVENTS_CHANNEL, `7 ${operationId} tenant-a succeeded`]);
      await until('the announcement', () => heard.length > 0);
      expect(heard).toEqual([{ eventId: 7, operationId, tenantId: 'tenant-a', status: 'succeeded' }]);
    } finally {
      await notifications.close();
    }
    await until('the connection to close', async () => (await connectionsOf(name)) === 0);
  });
});
