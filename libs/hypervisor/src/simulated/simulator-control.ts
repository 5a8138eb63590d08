import type { DriverMethod, NodeCapacity } from '../../../driver/src';
import { SimStore, type SimStoreOptions } from './sim-store';

/** The typed driver error a fault raises: `unavailable` is transient (retried), the others permanent. */
export const FAULT_ERRORS = ['unavailable', 'invalid_state', 'not_found', 'capacity'] as const;
export type FaultError = (typeof FAULT_ERRORS)[number];

export interface FaultSpec {
  /** A driver method, or `*` for every one. */
  method: DriverMethod | '*';
  /** Only calls on this node; every node when absent. */
  nodeId?: string | null;
  error?: FaultError;
  message?: string;
  /** Calls let through before the fault starts failing them (2: the 3rd call is the first to fail). */
  skipCalls?: number;
  /** How many calls fail, then the fault is spent; absent or null: every call from then on. */
  failCalls?: number | null;
  /** Chance (0–1) that a call the fault covers fails. */
  probability?: number;
  /**
   * The call does its work first and then fails (with `unavailable`: its reply is lost, as when an agent dies
   * right after the hypervisor acted). A retry meets a world the call already changed: idempotency, tested.
   */
  lands?: boolean;
}

export interface Fault extends Required<Omit<FaultSpec, 'nodeId' | 'message' | 'failCalls' | 'lands'>> {
  lands: boolean;
  id: number;
  nodeId: string | null;
  message: string | null;
  failCalls: number | null;
  /** Calls the fault has seen and how many of them it failed. */
  seen: number;
  failed: number;
}

export interface LatencySpec {
  method: DriverMethod | '*';
  nodeId?: string | null;
  ms: number;
}

/**
 * Runtime controls of the simulated hypervisor, shared by every process through its store: the nodes it
 * serves, the faults and latency it injects, the calls it has counted, and guest writes to disks.
 */
export class SimulatorControl {
  private readonly store: SimStore;

  constructor(options: SimStoreOptions | SimStore) {
    this.store = options instanceof SimStore ? options : new SimStore(options);
  }

  get schema(): string {
    return this.store.schema;
  }

  /** Serves `nodeId` with this capacity; registering it again updates the capacity. */
  async registerNode(nodeId: string, capacity: NodeCapacity): Promise<void> {
    await this.store.query(
      `INSERT INTO ${this.store.t('nodes')} (id, cpus, memory_mb, storage_gb) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET cpus = EXCLUDED.cpus, memory_mb = EXCLUDED.memory_mb, storage_gb = EXCLUDED.storage_gb`,
      [nodeId, capacity.cpus, capacity.memoryMb, capacity.storageGb],
    );
  }

  async injectFault(spec: FaultSpec): Promise<Fault> {
    const [row] = await this.store.query(
      `INSERT INTO ${this.store.t('faults')} (method, node_id, error, message, skip_calls, fail_calls, probability, lands)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        spec.method,
        spec.nodeId ?? null,
        spec.error ?? 'unavailable',
        spec.message ?? null,
        spec.skipCalls ?? 0,
        spec.failCalls ?? null,
        spec.probability ?? 1,
        spec.lands ?? false,
      ],
    );
    return toFault(row);
  }

  /** Injects the fault unless one with the same spec exists already (faults from configuration, at each start). */
  async ensureFault(spec: FaultSpec): Promise<Fault> {
    const same = (await this.listFaults()).find(
      (f) =>
        f.method === spec.method &&
        f.nodeId === (spec.nodeId ?? null) &&
        f.error === (spec.error ?? 'unavailable') &&
        f.message === (spec.message ?? null) &&
        f.skipCalls === (spec.skipCalls ?? 0) &&
        f.failCalls === (spec.failCalls ?? null) &&
        f.probability === (spec.probability ?? 1) &&
        f.lands === (spec.lands ?? false),
    );
    return same ?? this.injectFault(spec);
  }

  async listFaults(): Promise<Fault[]> {
    return (await this.store.query(`SELECT * FROM ${this.store.t('faults')} ORDER BY id`)).map(toFault);
  }

  /** Removes one fault, or all of them; true when something was removed. */
  async clearFaults(id?: number): Promise<boolean> {
    const rows = await this.store.query(`DELETE FROM ${this.store.t('faults')} WHERE $1::int IS NULL OR id = $1 RETURNING id`, [
      id ?? null,
    ]);
    return rows.length > 0;
  }

  async setLatency({ method, nodeId, ms }: LatencySpec): Promise<void> {
    await this.store.query(
      `INSERT INTO ${this.store.t('latency')} (method, node_id, ms) VALUES ($1, $2, $3)
       ON CONFLICT (method, node_id) DO UPDATE SET ms = EXCLUDED.ms`,
      [method, nodeId ?? '', ms],
    );
  }

  async listLatency(): Promise<Required<LatencySpec>[]> {
    const rows = await this.store.query(`SELECT * FROM ${this.store.t('latency')} ORDER BY method, node_id`);
    return rows.map((r) => ({ method: r.method, nodeId: r.node_id || null, ms: r.ms }));
  }

  async clearLatency(): Promise<void> {
    await this.store.query(`DELETE FROM ${this.store.t('latency')}`);
  }

  /** Calls made to `method` (every method when absent), on one node or on all of them; failed calls count too. */
  async callCount(method?: DriverMethod, nodeId?: string): Promise<number> {
    const [row] = await this.store.query(
      `SELECT count(*)::int AS n FROM ${this.store.t('call_log')}
       WHERE ($1::text IS NULL OR method = $1) AND ($2::text IS NULL OR node_id = $2)`,
      [method ?? null, nodeId ?? null],
    );
    return row.n;
  }

  /** Every driver call after `afterSeq` (0: all), oldest first: the order an operation called the driver in. */
  async callLog(afterSeq = 0): Promise<{ seq: number; method: DriverMethod; nodeId: string }[]> {
    const rows = await this.store.query(`SELECT seq, method, node_id FROM ${this.store.t('call_log')} WHERE seq > $1 ORDER BY seq`, [
      afterSeq,
    ]);
    return rows.map((r) => ({ seq: Number(r.seq), method: r.method, nodeId: r.node_id }));
  }

  /** The sequence number of the latest call: a mark to read the call log from. */
  async lastCallSeq(): Promise<number> {
    const [row] = await this.store.query(`SELECT coalesce(max(seq), 0) AS seq FROM ${this.store.t('call_log')}`);
    return Number(row.seq);
  }

  /** What a guest does to its disk: the disk's content changes, so a later rollback is observable. */
  async writeToDisk(diskId: string, content: string): Promise<void> {
    const rows = await this.store.query(`UPDATE ${this.store.t('disks')} SET content = $2 WHERE id = $1 RETURNING id`, [diskId, content]);
    if (!rows.length) throw new Error(`disk ${diskId} does not exist`);
  }

  /** What a guest does to its agent: without one it ignores ACPI and cannot freeze its filesystems. */
  async setGuestAgent(vmId: string, running: boolean): Promise<void> {
    const rows = await this.store.query(`UPDATE ${this.store.t('vms')} SET guest_agent = $2 WHERE id = $1 RETURNING id`, [vmId, running]);
    if (!rows.length) throw new Error(`VM ${vmId} does not exist`);
  }

  /** Forgets faults, latency and counted calls (the world itself stays). */
  async resetControls(): Promise<void> {
    await this.store.tx(async (c) => {
      await c.query(`DELETE FROM ${this.store.t('faults')}`);
      await c.query(`DELETE FROM ${this.store.t('latency')}`);
      await c.query(`DELETE FROM ${this.store.t('call_log')}`);
    });
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** A row of the faults table (snake_case columns). */
interface FaultRow {
  id: number;
  method: Fault['method'];
  node_id: string | null;
  error: Fault['error'];
  message: string | null;
  skip_calls: number;
  fail_calls: number | null;
  probability: number;
  lands: boolean;
  seen: number;
  failed: number;
}

function toFault(row: FaultRow): Fault {
  return {
    id: row.id,
    method: row.method,
    nodeId: row.node_id,
    error: row.error,
    message: row.message,
    skipCalls: row.skip_calls,
    failCalls: row.fail_calls,
    probability: row.probability,
    lands: row.lands,
    seen: row.seen,
    failed: row.failed,
  };
}
