import type { NotificationHandlers } from '@vmops/persistence';
import type { DataSource } from 'typeorm';
import type { DatabaseNotificationsService } from '../events/database-notifications.service';
import { ApiKeyLookup, KEY_CACHE_MAX } from './api-key-lookup';

/**
 * The cache's rules, with the database's answers and announcements in the test's hands (test/admin.test.ts holds the
 * same against the real database and its trigger).
 */
function setup() {
  const keys = new Map<string, { id: string; tenant_id: string; role: string }>();
  let handlers: NotificationHandlers = {};
  let gate: Promise<void> | null = null;
  const db = {
    lookups: 0,
    async query(_sql: string, [hash]: [string]) {
      db.lookups += 1;
      const row = keys.get(hash);
      if (gate) await gate;
      return row ? [row] : [];
    },
  };
  const notifications = {
    listening: true,
    start: () => undefined,
    subscribe(h: NotificationHandlers) {
      handlers = h;
      return () => undefined;
    },
  };
  const lookup = new ApiKeyLookup(db as unknown as DataSource, notifications as unknown as DatabaseNotificationsService);
  return {
    lookup,
    db,
    keys,
    notifications,
    announce: (id: string) => handlers.apiKeyChanged?.(id),
    reconnected: () => handlers.connected?.(),
    /** The next lookups answer only when the returned function is called. */
    hold() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  };
}

describe('ApiKeyLookup', () => {
  it('looks a key up once, then answers from what it kept until the key is announced as changed', async () => {
    const t = setup();
    t.keys.set('h1', { id: 'k1', tenant_id: 't1', role: 'member' });
    expect(await t.lookup.principalOf('h1')).toEqual({ tenantId: 't1', apiKeyId: 'k1', role: 'member' });
    await t.lookup.principalOf('h1');
    expect(t.db.lookups).toBe(1);

    t.keys.delete('h1');
    t.announce('k1');
    expect(await t.lookup.principalOf('h1')).toBeNull();
    expect(t.db.lookups).toBe(2);
  });

  it('never keeps an unknown key', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) expect(await t.lookup.principalOf('made-up')).toBeNull();
    expect(t.db.lookups).toBe(3);
  });

  it('does not keep a lookup that was under way when a change was announced', async () => {
    const t = setup();
    t.keys.set('h1', { id: 'k1', tenant_id: 't1', role: 'admin' });
    const release = t.hold();
    const inFlight = t.lookup.principalOf('h1');
    // The key is demoted and announced while the lookup's answer (read before the change) is on its way.
    t.keys.set('h1', { id: 'k1', tenant_id: 't1', role: 'member' });
    t.announce('k1');
    release();
    expect((await inFlight)?.role).toBe('admin');
    expect((await t.lookup.principalOf('h1'))?.role).toBe('member');
  });

  it('uses and keeps nothing while announcements cannot arrive, and forgets everything when they can again', async () => {
    const t = setup();
    t.keys.set('h1', { id: 'k1', tenant_id: 't1', role: 'member' });
    await t.lookup.principalOf('h1');
    t.notifications.listening = false;
    await t.lookup.principalOf('h1');
    await t.lookup.principalOf('h1');
    expect(t.db.lookups).toBe(3);

    t.notifications.listening = true;
    await t.lookup.principalOf('h1');
    await t.lookup.principalOf('h1');
    expect(t.db.lookups).toBe(4);
    t.reconnected();
    await t.lookup.principalOf('h1');
    expect(t.db.lookups).toBe(5);
  });

  it('forgets every key when the table is emptied, and shares a frozen principal', async () => {
    const t = setup();
    t.keys.set('h1', { id: 'k1', tenant_id: 't1', role: 'member' });
    const principal = await t.lookup.principalOf('h1');
    expect(Object.isFrozen(principal)).toBe(true);
    t.announce('*');
    await t.lookup.principalOf('h1');
    expect(t.db.lookups).toBe(2);
  });

  it('keeps at most KEY_CACHE_MAX keys, the oldest going first', async () => {
    const t = setup();
    for (let i = 0; i <= KEY_CACHE_MAX; i++) {
      t.keys.set(`h${i}`, { id: `k${i}`, tenant_id: 't', role: 'member' });
      await t.lookup.principalOf(`h${i}`);
    }
    const before = t.db.lookups;
    await t.lookup.principalOf(`h${KEY_CACHE_MAX}`);
    expect(t.db.lookups).toBe(before);
    await t.lookup.principalOf('h0');
    expect(t.db.lookups).toBe(before + 1);
  });
});
