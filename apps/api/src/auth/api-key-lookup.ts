import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { findActiveApiKey } from '@vmops/persistence';
import type { DataSource } from 'typeorm';
import { DatabaseNotificationsService } from '../events/database-notifications.service';
import type { Principal } from './auth';

/** How long a key's principal is kept at most, should an announcement of its change be lost unnoticed. */
export const KEY_CACHE_TTL_MS = 10_000;
/** How many keys are kept at most (the oldest go first). */
export const KEY_CACHE_MAX = 10_000;

/**
 * Who an API key is (its tenant, id and role), by the key's hash, for every request: looked up in the database once,
 * then kept, so that a request costs one round trip to the database fewer.
 *
 * What is kept is what the database says, as long as nothing says otherwise:
 * - every change to a key (revoked, deleted, its role or tenant changed, the table truncated) is announced by a
 *   trigger (migration ApiKeyChangeNotify), and the key is forgotten as the announcement arrives, within
 *   milliseconds of its commit; a revocation through this process forgets it before the request answers;
 * - nothing is kept, and nothing kept is used, while the listening connection is down (an announcement could be
 *   missed); all is forgotten when it connects again;
 * - a lookup that was under way when any change was announced is not kept (it may have read the key before the change);
 * - an entry lives KEY_CACHE_TTL_MS at most besides.
 * An unknown or revoked key is never kept: it is looked up every time.
 */
@Injectable()
export class ApiKeyLookup implements OnModuleDestroy {
  private readonly known = new Map<string, { principal: Principal; expiresAt: number }>();
  /** Moves on at every announced change: a lookup that began before it is not kept. */
  private epoch = 0;
  private readonly unsubscribe: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: DatabaseNotificationsService,
  ) {
    this.unsubscribe = notifications.subscribe({
      apiKeyChanged: (id) => (id === '*' ? this.forgetAll() : this.forget(id)),
      connected: () => this.forgetAll(),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The key's principal, or null when no valid key has this hash. */
  async principalOf(keyHash: string): Promise<Principal | null> {
    this.notifications.start();
    // What was kept may have missed an announcement while the listening connection was down: it is dropped.
    if (!this.notifications.listening) this.known.clear();
    const kept = this.known.get(keyHash);
    if (kept && kept.expiresAt > Date.now()) return kept.principal;
    const epoch = this.epoch;
    const key = await findActiveApiKey(this.dataSource, keyHash);
    if (!key) {
      this.known.delete(keyHash);
      return null;
    }
    // Shared by every request that presents the key while it is kept: frozen, so that none can change it for the others.
    const principal: Principal = Object.freeze({ tenantId: key.tenantId, apiKeyId: key.id, role: key.role });
    if (epoch === this.epoch && this.notifications.listening) {
      this.known.delete(keyHash);
      if (this.known.size >= KEY_CACHE_MAX) this.known.delete(this.known.keys().next().value as string);
      this.known.set(keyHash, { principal, expiresAt: Date.now() + KEY_CACHE_TTL_MS });
    }
    return principal;
  }

  /** Forgets the key with this id (it was revoked or changed). */
  forget(apiKeyId: string): void {
    this.epoch += 1;
    for (const [hash, { principal }] of this.known) if (principal.apiKeyId === apiKeyId) this.known.delete(hash);
  }

  private forgetAll(): void {
    this.epoch += 1;
    this.known.clear();
  }
}
