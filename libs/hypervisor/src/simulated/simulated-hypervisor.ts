import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type PoolClient } from 'pg';
import type { DiskInfo, HypervisorDriver, NodeAudit, VmDefinition, VmInfo } from '../driver';
import { DriverInvalidStateError, DriverNotFoundError } from '../errors';

export interface SimulatedHypervisorOptions {
  /** The simulator keeps its world here, in a schema of its own, apart from the inventory. */
  databaseUrl: string;
  schema?: string;
  /** Added to every call, to make operations observable in demos (0 for tests and benchmarks). */
  latencyMs?: number;
  poolSize?: number;
}

interface VmRow {
  id: string;
  node_id: string;
  hostname: string;
  cpus: number;
  memory_mb: number;
  power_state: 'running' | 'stopped';
}

interface DiskRow {
  id: string;
  node_id: string;
  size_gb: number;
  template_id: string | null;
  vm_id: string | null;
  position: number | null;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]*$/;

/**
 * A hypervisor simulated over PostgreSQL: its state is durable and shared by every process that opens it,
 * so it outlives the workers that drive it and can be audited after a crash. It enforces the rules a real
 * host would (a disk belongs to one VM at a time, a running VM cannot be undefined, an attached disk
 * cannot be deleted).
 */
export class SimulatedHypervisor implements HypervisorDriver {
  private readonly pool: Pool;
  private readonly schema: string;
  private readonly latencyMs: number;
  private ready: Promise<void> | null = null;

  constructor(options: SimulatedHypervisorOptions) {
    this.schema = options.schema ?? 'hypervisor_sim';
    if (!SCHEMA_PATTERN.test(this.schema)) throw new Error(`invalid simulator schema name "${this.schema}"`);
    this.latencyMs = options.latencyMs ?? 0;
    this.pool = new Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 4 });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async createDiskFromTemplate(nodeId: string, disk: { diskId: string; templateId: string; sizeGb: number }): Promise<void> {
    await this.tx(async (c) => {
      const existing = await this.lockDisk(c, disk.diskId);
      if (existing) {
        if (existing.node_id !== nodeId || existing.template_id !== disk.templateId || existing.size_gb !== disk.sizeGb) {
          throw new DriverInvalidStateError(`disk ${disk.diskId} already exists with another definition`);
        }
        return;
      }
      await c.query(`INSERT INTO ${this.schema}.disks (id, node_id, size_gb, template_id) VALUES ($1, $2, $3, $4)`, [
        disk.diskId,
        nodeId,
        disk.sizeGb,
        disk.templateId,
      ]);
    });
  }

  async deleteDisk(nodeId: string, diskId: string): Promise<void> {
    await this.tx(async (c) => {
      const disk = await this.lockDisk(c, diskId);
      if (!disk) return;
      this.assertOnNode(disk, nodeId, 'disk');
      if (disk.vm_id) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${disk.vm_id}`);
      await c.query(`DELETE FROM ${this.schema}.disks WHERE id = $1`, [diskId]);
    });
  }

  async getDisk(nodeId: string, diskId: string): Promise<DiskInfo | null> {
    await this.delay();
    await this.ensureSchema();
    const { rows } = await this.pool.query<DiskRow>(`SELECT * FROM ${this.schema}.disks WHERE id = $1 AND node_id = $2`, [diskId, nodeId]);
    return rows[0] ? toDiskInfo(rows[0]) : null;
  }

  async defineVm(nodeId: string, def: VmDefinition): Promise<void> {
    await this.tx(async (c) => {
      const existing = await this.lockVm(c, def.vmId);
      if (existing) {
        this.assertOnNode(existing, nodeId, 'VM');
        return;
      }
      await c.query(
        `INSERT INTO ${this.schema}.vms (id, node_id, hostname, cpus, memory_mb, power_state) VALUES ($1, $2, $3, $4, $5, 'stopped')`,
        [def.vmId, nodeId, def.hostname, def.cpus, def.memoryMb],
      );
      for (const { diskId, position } of def.disks) {
        const disk = await this.lockDisk(c, diskId);
        if (!disk || disk.node_id !== nodeId) throw new DriverNotFoundError(`disk ${diskId} not found on node ${nodeId}`);
        if (disk.vm_id) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${disk.vm_id}`);
        await c.query(`UPDATE ${this.schema}.disks SET vm_id = $2, position = $3 WHERE id = $1`, [diskId, def.vmId, position]);
      }
    });
  }

  async undefineVm(nodeId: string, vmId: string): Promise<void> {
    await this.tx(async (c) => {
      const vm = await this.lockVm(c, vmId);
      if (!vm) return;
      this.assertOnNode(vm, nodeId, 'VM');
      if (vm.power_state !== 'stopped') throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; stop it first`);
      await c.query(`UPDATE ${this.schema}.disks SET vm_id = NULL, position = NULL WHERE vm_id = $1`, [vmId]);
      await c.query(`DELETE FROM ${this.schema}.vms WHERE id = $1`, [vmId]);
    });
  }

  async getVm(nodeId: string, vmId: string): Promise<VmInfo | null> {
    await this.delay();
    await this.ensureSchema();
    const { rows } = await this.pool.query<VmRow>(`SELECT * FROM ${this.schema}.vms WHERE id = $1 AND node_id = $2`, [vmId, nodeId]);
    return rows[0] ? toVmInfo(rows[0]) : null;
  }

  async startVm(nodeId: string, vmId: string): Promise<void> {
    await this.setPowerState(nodeId, vmId, 'running');
  }

  async forceStopVm(nodeId: string, vmId: string): Promise<void> {
    await this.setPowerState(nodeId, vmId, 'stopped');
  }

  async audit(nodeId: string): Promise<NodeAudit> {
    await this.ensureSchema();
    const vms = await this.pool.query<VmRow>(`SELECT * FROM ${this.schema}.vms WHERE node_id = $1 ORDER BY id`, [nodeId]);
    const disks = await this.pool.query<DiskRow>(`SELECT * FROM ${this.schema}.disks WHERE node_id = $1 ORDER BY id`, [nodeId]);
    return { nodeId, vms: vms.rows.map(toVmInfo), disks: disks.rows.map(toDiskInfo) };
  }

  private async setPowerState(nodeId: string, vmId: string, state: VmRow['power_state']): Promise<void> {
    await this.tx(async (c) => {
      const vm = await this.lockVm(c, vmId);
      if (!vm) throw new DriverNotFoundError(`VM ${vmId} not found on node ${nodeId}`);
      this.assertOnNode(vm, nodeId, 'VM');
      if (state === 'running') {
        const boot = await c.query(`SELECT 1 FROM ${this.schema}.disks WHERE vm_id = $1 AND position = 0`, [vmId]);
        if (boot.rowCount === 0) throw new DriverInvalidStateError(`VM ${vmId} has no boot disk`);
      }
      await c.query(`UPDATE ${this.schema}.vms SET power_state = $2 WHERE id = $1`, [vmId, state]);
    });
  }

  private assertOnNode(row: { id: string; node_id: string }, nodeId: string, what: string): void {
    if (row.node_id !== nodeId) throw new DriverNotFoundError(`${what} ${row.id} not found on node ${nodeId}`);
  }

  private async lockVm(c: PoolClient, vmId: string): Promise<VmRow | undefined> {
    const { rows } = await c.query<VmRow>(`SELECT * FROM ${this.schema}.vms WHERE id = $1 FOR UPDATE`, [vmId]);
    return rows[0];
  }

  private async lockDisk(c: PoolClient, diskId: string): Promise<DiskRow | undefined> {
    const { rows } = await c.query<DiskRow>(`SELECT * FROM ${this.schema}.disks WHERE id = $1 FOR UPDATE`, [diskId]);
    return rows[0];
  }

  private async delay(): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
  }

  private async tx<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    await this.delay();
    await this.ensureSchema();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private ensureSchema(): Promise<void> {
    this.ready ??= this.createSchema().catch((err) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async createSchema(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes open the simulator at once; one creates the tables, the others wait for it.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`vmops:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.schema}.vms (
          id text PRIMARY KEY,
          node_id text NOT NULL,
          hostname text NOT NULL,
          cpus integer NOT NULL,
          memory_mb integer NOT NULL,
          power_state text NOT NULL
        )`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.schema}.disks (
          id text PRIMARY KEY,
          node_id text NOT NULL,
          size_gb integer NOT NULL,
          template_id text,
          vm_id text REFERENCES ${this.schema}.vms(id),
          position integer,
          UNIQUE (vm_id, position)
        )`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

function toVmInfo(row: VmRow): VmInfo {
  return {
    vmId: row.id,
    nodeId: row.node_id,
    hostname: row.hostname,
    cpus: row.cpus,
    memoryMb: row.memory_mb,
    powerState: row.power_state,
  };
}

function toDiskInfo(row: DiskRow): DiskInfo {
  return {
    diskId: row.id,
    nodeId: row.node_id,
    sizeGb: row.size_gb,
    templateId: row.template_id,
    vmId: row.vm_id,
    position: row.position,
  };
}
