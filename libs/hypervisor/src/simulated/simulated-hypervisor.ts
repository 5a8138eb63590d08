import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { escapeLiteral, type PoolClient } from 'pg';
import type {
  DiskInfo,
  DriverMethod,
  HypervisorDriver,
  MigrationInfo,
  NicInfo,
  NodeAudit,
  ProgressListener,
  TransferListener,
  SnapshotInfo,
  VmDefinition,
  VmInfo,
  VmUsage,
} from '../../../driver/src';
import {
  DriverCapacityError,
  DriverError,
  DriverInvalidStateError,
  DriverNotFoundError,
  DriverUnavailableError,
} from '../../../driver/src';
import { SimStore, type SimStoreOptions } from './sim-store';
import type { FaultError } from './simulator-control';

export interface SimulatedHypervisorOptions extends SimStoreOptions {
  /** Added to every call unless a per-method latency is set (0 for tests and benchmarks, seconds for demos). */
  latencyMs?: number;
  /** How long a guest with an agent takes to power off after an ACPI shutdown. */
  guestShutdownMs?: number;
  /** A migration copies in ten steps of this long each. */
  transferStepMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row as pg returns it, read column by column
type Row = Record<string, any>;

/** A call's work as statements of its own: it runs in the call's transaction and gets the node's row. */
type Work<T> = (c: PoolClient, node: Row) => Promise<T>;

/**
 * A call's work as a locking read, a decision and a write, which a call runs in two round trips: `read` (statements
 * built with `sql`) runs as the call's transaction opens, in the same round trip; `decide` gets the rows of each
 * read statement and the node's row, and returns the result and the statements that write it, which are sent with
 * the COMMIT. `decide` throws (a DriverError) to refuse the call: then nothing is written.
 */
interface Transition<T> {
  read: string[];
  decide(rows: Row[][], node: Row): { result?: T; write?: string[] };
}

const FAULT_ERROR_CLASSES: Record<FaultError, new (message: string) => DriverError> = {
  unavailable: DriverUnavailableError,
  invalid_state: DriverInvalidStateError,
  not_found: DriverNotFoundError,
  capacity: DriverCapacityError,
};

/** Migration states in which the target holds a reservation. */
const RESERVING = `('prepared', 'transferring', 'transferred')`;

/**
 * A hypervisor simulated over PostgreSQL (see SimStore): durable, shared by every process that opens it, and
 * strict as a host is — a disk belongs to one VM at a time, a running VM keeps its boot disk, a guest without
 * an agent ignores ACPI, memory and storage are finite per node. Faults and latency come from the
 * SimulatorControl tables, so a test or an operator can change them while agents run.
 */
export class SimulatedHypervisor implements HypervisorDriver {
  private readonly store: SimStore;
  private readonly latencyMs: number;
  private readonly guestShutdownMs: number;
  private readonly transferStepMs: number;

  constructor(options: SimulatedHypervisorOptions) {
    this.store = new SimStore(options);
    this.latencyMs = options.latencyMs ?? 0;
    this.guestShutdownMs = options.guestShutdownMs ?? 500;
    this.transferStepMs = options.transferStepMs ?? 100;
  }

  get schema(): string {
    return this.store.schema;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  // ---- VMs

  async defineVm(nodeId: string, def: VmDefinition): Promise<void> {
    await this.call('defineVm', nodeId, async (c, node) => {
      const existing = await this.lockVm(c, def.vmId);
      if (existing) {
        if (existing.node_id !== nodeId) throw new DriverInvalidStateError(`VM ${def.vmId} is defined on node ${existing.node_id}`);
        return;
      }
      if (def.cpus > node.cpus) throw new DriverCapacityError(`node ${nodeId} has ${node.cpus} CPUs; VM ${def.vmId} asks for ${def.cpus}`);
      await c.query(
        `INSERT INTO ${this.t('vms')} (id, node_id, hostname, cpus, memory_mb, guest_agent, power_state, root_password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 'stopped', $7)`,
        [def.vmId, nodeId, def.hostname, def.cpus, def.memoryMb, def.guestAgent, def.rootPasswordHash ?? null],
      );
      for (const { id, position } of def.disks) await this.runTransition(c, this.attach('disks', nodeId, id, def.vmId, position), node);
      for (const { id, position } of def.nics) await this.runTransition(c, this.attach('nics', nodeId, id, def.vmId, position), node);
    });
  }

  async undefineVm(nodeId: string, vmId: string): Promise<void> {
    await this.call('undefineVm', nodeId, async (c) => {
      const vm = await this.lockVm(c, vmId, nodeId);
      if (!vm) return;
      if (vm.power_state !== 'stopped') throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; stop it first`);
      await c.query(`UPDATE ${this.t('disks')} SET vm_id = NULL, position = NULL WHERE vm_id = $1`, [vmId]);
      await c.query(`UPDATE ${this.t('nics')} SET vm_id = NULL, position = NULL WHERE vm_id = $1`, [vmId]);
      await c.query(`DELETE FROM ${this.t('vms')} WHERE id = $1`, [vmId]);
    });
  }

  getVm(nodeId: string, vmId: string): Promise<VmInfo | null> {
    return this.call('getVm', nodeId, async (c) => {
      const vm = await this.lockVm(c, vmId, nodeId);
      return vm ? (await this.vmInfos(c, [vm]))[0] : null;
    });
  }

  async resizeVm(nodeId: string, vmId: string, size: { cpus: number; memoryMb: number }): Promise<void> {
    await this.call('resizeVm', nodeId, async (c, node) => {
      const vm = await this.requireVm(c, vmId, nodeId);
      if (vm.power_state !== 'stopped') throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; resize it stopped`);
      if (size.cpus > node.cpus) throw new DriverCapacityError(`node ${nodeId} has ${node.cpus} CPUs; VM ${vmId} asks for ${size.cpus}`);
      await c.query(`UPDATE ${this.t('vms')} SET cpus = $2, memory_mb = $3 WHERE id = $1`, [vmId, size.cpus, size.memoryMb]);
    });
  }

  async startVm(nodeId: string, vmId: string, options: { bootIso?: string } = {}): Promise<void> {
    await this.call('startVm', nodeId, {
      read: [
        this.lockSql('vms', vmId),
        sql(`SELECT 1 FROM ${this.t('disks')} WHERE vm_id = $1 AND position = 0`, [vmId]),
        ...this.usageReads(nodeId),
      ],
      decide: ([[row], boot, , [usage]], node) => {
        const vm = found(row, nodeId, `VM ${vmId}`);
        if (vm.power_state === 'running') return {};
        if (vm.power_state === 'stopping') throw new DriverInvalidStateError(`VM ${vmId} is shutting down`);
        if (vm.frozen) throw new DriverInvalidStateError(`VM ${vmId} is frozen; unfreeze it first`);
        if (!options.bootIso && !boot.length) throw new DriverInvalidStateError(`VM ${vmId} has no boot disk`);
        const used = toUsage(usage);
        if (used.memoryMb + vm.memory_mb > node.memory_mb) {
          throw new DriverCapacityError(
            `node ${nodeId} has ${node.memory_mb - used.memoryMb} MB of memory free; VM ${vmId} needs ${vm.memory_mb}`,
          );
        }
        return {
          write: [
            sql(`UPDATE ${this.t('vms')} SET power_state = 'running', started_at = clock_timestamp(), boot_iso = $2 WHERE id = $1`, [
              vmId,
              options.bootIso ?? null,
            ]),
          ],
        };
      },
    });
  }

  async shutdownVm(nodeId: string, vmId: string): Promise<void> {
    await this.call('shutdownVm', nodeId, this.pressPowerButton(vmId, nodeId));
  }

  async stopVm(
    nodeId: string,
    vmId: string,
    { timeoutSeconds, onProgress }: { timeoutSeconds: number; onProgress?: ProgressListener },
  ): Promise<'stopped' | 'timed_out'> {
    if (await this.call('stopVm', nodeId, this.pressPowerButton(vmId, nodeId))) return 'stopped';
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      // The guest is off once its shutdown time has come (then the UPDATE answers), or if it was already.
      const [vm] = await this.store.query(
        `WITH off AS (UPDATE ${this.t('vms')} SET ${POWER_OFF} WHERE id = $1 AND ${SHUT_DOWN} RETURNING power_state)
         SELECT coalesce((SELECT power_state FROM off), (SELECT power_state FROM ${this.t('vms')} WHERE id = $1)) AS power_state`,
        [vmId],
      );
      if (vm.power_state === null || vm.power_state === 'stopped') return 'stopped';
      const left = deadline - Date.now();
      if (left <= 0) return 'timed_out';
      onProgress?.(Math.min(99, Math.round(100 - (left / (timeoutSeconds * 1000)) * 100)));
      await sleep(Math.min(left, 100));
    }
  }

  async forceStopVm(nodeId: string, vmId: string): Promise<void> {
    await this.call('forceStopVm', nodeId, async (c) => {
      await this.requireVm(c, vmId, nodeId);
      await c.query(`UPDATE ${this.t('vms')} SET ${POWER_OFF} WHERE id = $1`, [vmId]);
    });
  }

  async resetVm(nodeId: string, vmId: string): Promise<void> {
    await this.call('resetVm', nodeId, async (c) => {
      const vm = await this.requireVm(c, vmId, nodeId);
      if (vm.power_state !== 'running')
        throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; only a running VM can be reset`);
      await c.query(`UPDATE ${this.t('vms')} SET started_at = clock_timestamp(), boot_iso = NULL WHERE id = $1`, [vmId]);
    });
  }

  async freezeVm(nodeId: string, vmId: string): Promise<void> {
    await this.setFrozen('freezeVm', nodeId, vmId, true);
  }

  async unfreezeVm(nodeId: string, vmId: string): Promise<void> {
    await this.setFrozen('unfreezeVm', nodeId, vmId, false);
  }

  consoleUrl(nodeId: string, vmId: string): Promise<string> {
    return this.call('consoleUrl', nodeId, async (c) => {
      const vm = await this.requireVm(c, vmId, nodeId);
      if (vm.power_state === 'stopped') throw new DriverInvalidStateError(`VM ${vmId} is stopped; it has no console`);
      const token = createHash('sha256').update(`${vmId}:${vm.started_at.toISOString()}`).digest('hex').slice(0, 24);
      return `vnc+sim://${nodeId}/${vmId}?token=${token}`;
    });
  }

  usage(nodeId: string, vmId: string): Promise<VmUsage> {
    return this.call('usage', nodeId, async (c) => {
      const vm = await this.requireVm(c, vmId, nodeId);
      const uptime = vm.started_at ? Math.max(0, Math.floor((Date.now() - vm.started_at.getTime()) / 1000)) : 0;
      const running = vm.power_state !== 'stopped' && !vm.frozen;
      return {
        uptimeSeconds: uptime,
        cpuSeconds: running ? Math.round(uptime * vm.cpus * 0.1) : 0,
        memoryUsedMb: vm.power_state === 'stopped' ? 0 : Math.round(vm.memory_mb * 0.6),
        diskReadBytes: uptime * 512 * 1024,
        diskWriteBytes: uptime * 256 * 1024,
        netRxBytes: uptime * 64 * 1024,
        netTxBytes: uptime * 32 * 1024,
      };
    });
  }

  // ---- Disks

  async createBlankDisk(nodeId: string, disk: { diskId: string; sizeGb: number }): Promise<void> {
    await this.call('createBlankDisk', nodeId, {
      read: this.newDiskReads(nodeId, disk.diskId),
      decide: (rows, node) => this.newDisk(rows, node, disk.diskId, disk.sizeGb, 'blank'),
    });
  }

  async createDiskFromTemplate(nodeId: string, disk: { diskId: string; templateId: string; sizeGb: number }): Promise<void> {
    await this.call('createDiskFromTemplate', nodeId, {
      read: [
        sql(`SELECT content, size_gb FROM ${this.t('images')} WHERE id = $1`, [disk.templateId]),
        ...this.newDiskReads(nodeId, disk.diskId),
      ],
      decide: ([[image], ...newDisk], node) => {
        if (image && disk.sizeGb < image.size_gb)
          throw new DriverInvalidStateError(`image ${disk.templateId} needs a disk of at least ${image.size_gb} GB`);
        return this.newDisk(newDisk, node, disk.diskId, disk.sizeGb, image ? image.content : `template:${disk.templateId}`);
      },
    });
  }

  async captureImage(nodeId: string, image: { imageId: string; diskId: string; fsfreeze: boolean }): Promise<void> {
    await this.call('captureImage', nodeId, async (c) => {
      const { rows } = await c.query(`SELECT source_disk_id FROM ${this.t('images')} WHERE id = $1 FOR UPDATE`, [image.imageId]);
      if (rows[0]) {
        if (rows[0].source_disk_id !== image.diskId)
          throw new DriverInvalidStateError(`image ${image.imageId} was captured from another disk`);
        return;
      }
      const disk = await this.requireDisk(c, image.diskId, nodeId);
      const vm = disk.vm_id ? await this.lockVm(c, disk.vm_id) : undefined;
      if (vm && vm.power_state !== 'stopped') {
        if (!image.fsfreeze)
          throw new DriverInvalidStateError(
            `VM ${vm.id} is ${vm.power_state}: stop it, or freeze its filesystems, to capture a consistent image`,
          );
        if (!vm.guest_agent) throw new DriverInvalidStateError(`VM ${vm.id} runs without a guest agent: its filesystems cannot be frozen`);
      }
      await c.query(`INSERT INTO ${this.t('images')} (id, source_disk_id, size_gb, content) VALUES ($1, $2, $3, $4)`, [
        image.imageId,
        image.diskId,
        disk.size_gb,
        disk.content,
      ]);
    });
  }

  async deleteImage(nodeId: string, imageId: string): Promise<void> {
    await this.call('deleteImage', nodeId, (c) => c.query(`DELETE FROM ${this.t('images')} WHERE id = $1`, [imageId]));
  }

  async createDiskFromSnapshot(nodeId: string, disk: { diskId: string; snapshotId: string; sizeGb?: number }): Promise<void> {
    await this.call('createDiskFromSnapshot', nodeId, {
      read: [this.lockSql('snapshots', disk.snapshotId), ...this.newDiskReads(nodeId, disk.diskId)],
      decide: ([[row], ...newDisk], node) => {
        const snap = found(row, nodeId, `snapshot ${disk.snapshotId}`);
        const sizeGb = disk.sizeGb ?? snap.size_gb;
        if (sizeGb < snap.size_gb)
          throw new DriverInvalidStateError(`snapshot ${disk.snapshotId} needs a disk of at least ${snap.size_gb} GB`);
        return this.newDisk(newDisk, node, disk.diskId, sizeGb, snap.content, `snapshot:${disk.snapshotId}`);
      },
    });
  }

  async resizeDisk(nodeId: string, diskId: string, sizeGb: number): Promise<void> {
    await this.call('resizeDisk', nodeId, async (c, node) => {
      const disk = await this.requireDisk(c, diskId, nodeId);
      if (sizeGb === disk.size_gb) return;
      if (sizeGb < disk.size_gb) throw new DriverInvalidStateError(`disk ${diskId} is ${disk.size_gb} GB; disks grow, they do not shrink`);
      await this.reserveStorage(c, node, sizeGb - disk.size_gb, `grow disk ${diskId}`);
      await c.query(`UPDATE ${this.t('disks')} SET size_gb = $2 WHERE id = $1`, [diskId, sizeGb]);
    });
  }

  async deleteDisk(nodeId: string, diskId: string): Promise<void> {
    await this.call('deleteDisk', nodeId, {
      read: [this.lockSql('disks', diskId)],
      decide: ([[row]]) => {
        const disk = onNode(row, nodeId);
        if (!disk) return {};
        if (disk.vm_id) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${disk.vm_id}`);
        return { write: [sql(`DELETE FROM ${this.t('disks')} WHERE id = $1`, [diskId])] };
      },
    });
  }

  getDisk(nodeId: string, diskId: string): Promise<DiskInfo | null> {
    return this.call('getDisk', nodeId, async (c) => {
      const disk = await this.lockRow(c, 'disks', diskId, nodeId);
      return disk ? toDiskInfo(disk) : null;
    });
  }

  async attachDisk(nodeId: string, { diskId, vmId, position }: { diskId: string; vmId: string; position: number }): Promise<void> {
    await this.call('attachDisk', nodeId, this.attach('disks', nodeId, diskId, vmId, position));
  }

  async detachDisk(nodeId: string, { diskId, vmId }: { diskId: string; vmId: string }): Promise<void> {
    await this.call('detachDisk', nodeId, this.detach('disks', nodeId, diskId, vmId));
  }

  // ---- Snapshots

  async createSnapshot(nodeId: string, s: { snapshotId: string; diskId: string; name: string; fsfreeze: boolean }): Promise<void> {
    await this.call('createSnapshot', nodeId, async (c) => {
      const existing = await this.lockRow(c, 'snapshots', s.snapshotId);
      if (existing) {
        if (existing.disk_id !== s.diskId) throw new DriverInvalidStateError(`snapshot ${s.snapshotId} exists on disk ${existing.disk_id}`);
        return;
      }
      const disk = await this.requireDisk(c, s.diskId, nodeId);
      if (s.fsfreeze && disk.vm_id) {
        const vm = await this.lockVm(c, disk.vm_id);
        if (vm && vm.power_state !== 'stopped' && !vm.guest_agent) {
          throw new DriverInvalidStateError(`VM ${vm.id} runs without a guest agent: its filesystems cannot be frozen`);
        }
      }
      await c.query(
        `INSERT INTO ${this.t('snapshots')} (id, node_id, disk_id, name, size_gb, content, fsfreeze) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [s.snapshotId, nodeId, s.diskId, s.name, disk.size_gb, disk.content, s.fsfreeze],
      );
    });
  }

  listSnapshots(nodeId: string, filter: { diskId?: string } = {}): Promise<SnapshotInfo[]> {
    return this.call('listSnapshots', nodeId, async (c) => {
      const { rows } = await c.query(
        `SELECT * FROM ${this.t('snapshots')} WHERE node_id = $1 AND ($2::text IS NULL OR disk_id = $2) ORDER BY seq`,
        [nodeId, filter.diskId ?? null],
      );
      return rows.map(toSnapshotInfo);
    });
  }

  async deleteSnapshot(nodeId: string, snapshotId: string): Promise<void> {
    await this.call('deleteSnapshot', nodeId, async (c) => {
      await c.query(`DELETE FROM ${this.t('snapshots')} WHERE id = $1 AND node_id = $2`, [snapshotId, nodeId]);
    });
  }

  async rollbackSnapshot(nodeId: string, snapshotId: string, options: { targetDiskId?: string; discardSnapshots: boolean }): Promise<void> {
    await this.call('rollbackSnapshot', nodeId, async (c) => {
      const snap = await this.requireSnapshot(c, snapshotId, nodeId);
      const targetId = options.targetDiskId ?? snap.disk_id;
      const target = await this.requireDisk(c, targetId, nodeId);
      if (target.vm_id) {
        const vm = await this.lockVm(c, target.vm_id);
        if (vm && vm.power_state !== 'stopped')
          throw new DriverInvalidStateError(`VM ${vm.id} is ${vm.power_state}; stop it before a rollback`);
      }
      if (target.size_gb < snap.size_gb) {
        throw new DriverInvalidStateError(`disk ${targetId} is ${target.size_gb} GB; snapshot ${snapshotId} needs ${snap.size_gb} GB`);
      }
      const { rows: invalidated } =
        targetId === snap.disk_id
          ? await c.query(`SELECT id FROM ${this.t('snapshots')} WHERE disk_id = $1 AND seq > $2 ORDER BY seq`, [targetId, snap.seq])
          : await c.query(`SELECT id FROM ${this.t('snapshots')} WHERE disk_id = $1 ORDER BY seq`, [targetId]);
      if (invalidated.length && !options.discardSnapshots) {
        throw new DriverInvalidStateError(
          `the rollback would invalidate snapshot(s) ${invalidated.map((r) => r.id).join(', ')} of disk ${targetId}; discard them to go on`,
        );
      }
      await c.query(`DELETE FROM ${this.t('snapshots')} WHERE id = ANY($1)`, [invalidated.map((r) => r.id)]);
      await c.query(`UPDATE ${this.t('disks')} SET content = $2 WHERE id = $1`, [targetId, snap.content]);
    });
  }

  // ---- Network interfaces

  async createNic(nodeId: string, nic: { nicId: string; mac: string; network: string }): Promise<void> {
    await this.call('createNic', nodeId, async (c) => {
      const existing = await this.lockRow(c, 'nics', nic.nicId);
      if (existing) {
        if (existing.node_id !== nodeId || existing.mac !== nic.mac || existing.network !== nic.network) {
          throw new DriverInvalidStateError(`interface ${nic.nicId} already exists with another definition`);
        }
        return;
      }
      await c.query(`INSERT INTO ${this.t('nics')} (id, node_id, mac, network) VALUES ($1, $2, $3, $4)`, [
        nic.nicId,
        nodeId,
        nic.mac,
        nic.network,
      ]);
    });
  }

  async attachNic(nodeId: string, { nicId, vmId, position }: { nicId: string; vmId: string; position: number }): Promise<void> {
    await this.call('attachNic', nodeId, this.attach('nics', nodeId, nicId, vmId, position));
  }

  async detachNic(nodeId: string, { nicId, vmId }: { nicId: string; vmId: string }): Promise<void> {
    await this.call('detachNic', nodeId, this.detach('nics', nodeId, nicId, vmId));
  }

  async deleteNic(nodeId: string, nicId: string): Promise<void> {
    await this.call('deleteNic', nodeId, async (c) => {
      const nic = await this.lockRow(c, 'nics', nicId, nodeId);
      if (!nic) return;
      if (nic.vm_id) throw new DriverInvalidStateError(`interface ${nicId} is attached to VM ${nic.vm_id}`);
      await c.query(`DELETE FROM ${this.t('nics')} WHERE id = $1`, [nicId]);
    });
  }

  // ---- Migration

  async prepareMigrationTarget(targetNodeId: string, m: { migrationId: string; vmId: string; sourceNodeId: string }): Promise<void> {
    await this.call('prepareMigrationTarget', targetNodeId, async (c, node) => {
      const existing = await this.lockRow(c, 'migrations', m.migrationId);
      if (existing) {
        if (existing.target_node_id !== targetNodeId || existing.vm_id !== m.vmId) {
          throw new DriverInvalidStateError(`migration ${m.migrationId} exists for another VM or target`);
        }
        return;
      }
      if (targetNodeId === m.sourceNodeId) throw new DriverInvalidStateError(`VM ${m.vmId} is already on node ${targetNodeId}`);
      const vm = await this.requireVm(c, m.vmId, m.sourceNodeId);
      const busy = await c.query(`SELECT id FROM ${this.t('migrations')} WHERE vm_id = $1 AND state IN ${RESERVING}`, [vm.id]);
      if (busy.rowCount) throw new DriverInvalidStateError(`VM ${vm.id} is already migrating (${busy.rows[0].id})`);
      if (vm.cpus > node.cpus) throw new DriverCapacityError(`node ${targetNodeId} has ${node.cpus} CPUs; VM ${vm.id} has ${vm.cpus}`);
      const { rows } = await c.query(`SELECT coalesce(sum(size_gb), 0)::int AS gb FROM ${this.t('disks')} WHERE vm_id = $1`, [vm.id]);
      const used = await this.usedOn(c, targetNodeId);
      if (used.memoryMb + vm.memory_mb > node.memory_mb) {
        throw new DriverCapacityError(
          `node ${targetNodeId} has ${node.memory_mb - used.memoryMb} MB of memory free; VM ${vm.id} needs ${vm.memory_mb}`,
        );
      }
      await this.reserveStorage(c, node, rows[0].gb, `receive VM ${vm.id}`);
      await c.query(
        `INSERT INTO ${this.t('migrations')} (id, vm_id, source_node_id, target_node_id, state, memory_mb, storage_gb, bytes_total)
         VALUES ($1, $2, $3, $4, 'prepared', $5, $6, $7)`,
        // The disks are copied; the memory too when the VM runs (a live migration).
        [
          m.migrationId,
          vm.id,
          m.sourceNodeId,
          targetNodeId,
          vm.memory_mb,
          rows[0].gb,
          rows[0].gb * 2 ** 30 + (vm.power_state === 'stopped' ? 0 : vm.memory_mb * 2 ** 20),
        ],
      );
    });
  }

  async transferVm(sourceNodeId: string, migrationId: string, onProgress?: TransferListener): Promise<void> {
    const start = await this.call('transferVm', sourceNodeId, async (c) => {
      const m = await this.requireMigrationFrom(c, migrationId, sourceNodeId);
      if (m.state === 'prepared') await c.query(`UPDATE ${this.t('migrations')} SET state = 'transferring' WHERE id = $1`, [migrationId]);
      return m;
    });
    if (!['prepared', 'transferring'].includes(start.state)) return;
    // Progress is stored as it goes, so a transfer that is retried after a crash resumes where it was.
    for (let progress = start.progress; progress < 100;) {
      await sleep(this.transferStepMs);
      progress = Math.min(100, progress + 10);
      const [row] = await this.store.query(
        `UPDATE ${this.t('migrations')} SET progress = GREATEST(progress, $2), state = CASE WHEN $2 = 100 THEN 'transferred' ELSE state END
         WHERE id = $1 AND state = 'transferring' RETURNING id`,
        [migrationId, progress],
      );
      if (!row) {
        // Another attempt of this call (a retry beside one still running) finished the transfer: so is this one.
        const [now] = await this.store.query(`SELECT state FROM ${this.t('migrations')} WHERE id = $1`, [migrationId]);
        if (now && ['transferred', 'switched', 'completed'].includes(now.state)) return;
        throw new DriverInvalidStateError(`migration ${migrationId} was aborted during the transfer`);
      }
      const bytesTotal = Number(start.bytes_total);
      onProgress?.({ percent: progress, bytesTransferred: Math.round((bytesTotal * progress) / 100), bytesTotal });
    }
  }

  async switchOverVm(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.call('switchOverVm', sourceNodeId, async (c) => {
      const m = await this.requireMigrationFrom(c, migrationId, sourceNodeId);
      if (m.state === 'switched' || m.state === 'completed') return;
      if (m.state !== 'transferred') throw new DriverInvalidStateError(`migration ${migrationId} is ${m.state}; transfer the VM first`);
      await this.moveVm(c, m.vm_id, m.target_node_id);
      await c.query(`UPDATE ${this.t('migrations')} SET state = 'switched' WHERE id = $1`, [migrationId]);
    });
  }

  async switchBackVm(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.call('switchBackVm', sourceNodeId, async (c) => {
      const m = await this.lockRow(c, 'migrations', migrationId);
      if (!m) return;
      if (m.source_node_id !== sourceNodeId)
        throw new DriverNotFoundError(`migration ${migrationId} has no source on node ${sourceNodeId}`);
      if (m.state === 'completed')
        throw new DriverInvalidStateError(`migration ${migrationId} has cleaned up its source; the VM can only migrate back`);
      if (m.state !== 'switched') return;
      await this.moveVm(c, m.vm_id, m.source_node_id);
      await c.query(`UPDATE ${this.t('migrations')} SET state = 'transferred' WHERE id = $1`, [migrationId]);
    });
  }

  async abortMigration(nodeId: string, migrationId: string): Promise<void> {
    await this.call('abortMigration', nodeId, async (c) => {
      const m = await this.lockRow(c, 'migrations', migrationId);
      if (!m) return;
      if (m.source_node_id !== nodeId && m.target_node_id !== nodeId)
        throw new DriverNotFoundError(`migration ${migrationId} not found on node ${nodeId}`);
      if (m.state === 'switched' || m.state === 'completed') {
        throw new DriverInvalidStateError(`migration ${migrationId} has switched over; the VM runs on node ${m.target_node_id}`);
      }
      await c.query(`DELETE FROM ${this.t('migrations')} WHERE id = $1`, [migrationId]);
    });
  }

  async cleanUpMigrationSource(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.call('cleanUpMigrationSource', sourceNodeId, async (c) => {
      const m = await this.requireMigrationFrom(c, migrationId, sourceNodeId);
      if (m.state === 'completed') return;
      if (m.state !== 'switched') throw new DriverInvalidStateError(`migration ${migrationId} is ${m.state}; the source is still in use`);
      await c.query(`UPDATE ${this.t('migrations')} SET state = 'completed' WHERE id = $1`, [migrationId]);
    });
  }

  /** The VM, its attached disks (with their snapshots) and its interfaces are on `nodeId` from now on. */
  private async moveVm(c: PoolClient, vmId: string, nodeId: string): Promise<void> {
    for (const table of ['disks', 'nics']) {
      await c.query(`UPDATE ${this.t(table)} SET node_id = $2 WHERE vm_id = $1`, [vmId, nodeId]);
    }
    await c.query(`UPDATE ${this.t('snapshots')} SET node_id = $2 WHERE disk_id IN (SELECT id FROM ${this.t('disks')} WHERE vm_id = $1)`, [
      vmId,
      nodeId,
    ]);
    await c.query(`UPDATE ${this.t('vms')} SET node_id = $2 WHERE id = $1`, [vmId, nodeId]);
  }

  getMigration(nodeId: string, migrationId: string): Promise<MigrationInfo | null> {
    return this.call('getMigration', nodeId, async (c) => {
      const m = await this.lockRow(c, 'migrations', migrationId);
      return m && (m.source_node_id === nodeId || m.target_node_id === nodeId) ? toMigrationInfo(m) : null;
    });
  }

  // ---- Audit

  audit(nodeId: string): Promise<NodeAudit> {
    return this.call('audit', nodeId, async (c, node) => {
      const vms = await c.query(`SELECT * FROM ${this.t('vms')} WHERE node_id = $1 ORDER BY id`, [nodeId]);
      const rows = async (table: string, order = 'id') =>
        (await c.query(`SELECT * FROM ${this.t(table)} WHERE node_id = $1 ORDER BY ${order}`, [nodeId])).rows;
      const migrations = await c.query(
        `SELECT * FROM ${this.t('migrations')} WHERE (source_node_id = $1 OR target_node_id = $1) AND state <> 'completed' ORDER BY id`,
        [nodeId],
      );
      return {
        nodeId,
        capacity: { cpus: node.cpus, memoryMb: node.memory_mb, storageGb: node.storage_gb },
        // A read: the node's row is not locked, so an audit never holds up the calls that take from the node.
        used: toUsage((await c.query(this.usageSql(nodeId))).rows[0]),
        vms: await this.vmInfos(c, vms.rows),
        disks: (await rows('disks')).map(toDiskInfo),
        snapshots: (await rows('snapshots', 'seq')).map(toSnapshotInfo),
        nics: (await rows('nics')).map(toNicInfo),
        migrations: migrations.rows.map(toMigrationInfo),
      };
    });
  }

  // ---- Internals

  private t(table: string): string {
    return this.store.t(table);
  }

  /**
   * Every driver call: logs it, applies the injected latency and faults, settles guests that finished
   * shutting down, checks the node is served, then does `work` in one transaction. A fault fails the call
   * before its work, or — a fault that `lands` — after it. A call is logged (and counted) whether it succeeds or not.
   */
  private async call<T>(method: DriverMethod, nodeId: string, work: Work<T> | Transition<T>): Promise<T> {
    // The usual call (no latency, no fault that may cover it) is one transaction, opened by one round trip that
    // logs the call, settles the node's guests that finished shutting down and reads the node, the latency and
    // whether a fault might cover the call — and, for a Transition, runs its locking read. The work runs after a
    // savepoint: when it fails, it is undone and the log kept. (Values are literals here, because only a simple
    // query carries several statements.)
    const transition = typeof work === 'function' ? null : work;
    const first = await this.store.session(
      async (c): Promise<{ done: true; result: T } | { done: false; latencyMs: number; faulty: boolean }> => {
        const settle = this.settleNode('$2');
        const opening = [
          'BEGIN',
          sql(`INSERT INTO ${this.t('call_log')} (method, node_id) VALUES ($1, $2)`, [method, nodeId]),
          sql(
            `WITH ${settle.with}
             SELECT (SELECT ms FROM ${this.t('latency')} WHERE method IN ($1, '*') AND node_id IN ($2, '')
                      ORDER BY (method = $1) DESC, (node_id = $2) DESC LIMIT 1) AS ms,
                    EXISTS (SELECT 1 FROM ${this.t('faults')} WHERE method IN ($1, '*') AND (node_id IS NULL OR node_id = $2)) AS faulty,
                    ${settle.columns}`,
            [method, nodeId],
          ),
          'SAVEPOINT work',
          ...(transition?.read ?? []),
        ];
        let results: Row[][];
        try {
          results = resultsOf(await c.query(opening.join(';\n')));
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        const { ms, faulty, node } = results[2][0];
        const latencyMs: number = ms ?? this.latencyMs;
        if (latencyMs > 0 || faulty || !node) {
          // Logged; the latency and the faults are drawn outside any transaction, as the work then runs in its own.
          await c.query('COMMIT');
          if (!node) throw new DriverNotFoundError(`node ${nodeId} is not served by this hypervisor`);
          return { done: false, latencyMs, faulty };
        }
        try {
          if (!transition) {
            const result = await (work as Work<T>)(c, node);
            await c.query('COMMIT');
            return { done: true, result };
          }
          const { result, write = [] } = transition.decide(results.slice(opening.length - transition.read.length), node);
          await c.query([...write, 'COMMIT'].join(';\n'));
          return { done: true, result: result as T };
        } catch (err) {
          await c.query('ROLLBACK TO SAVEPOINT work; COMMIT').catch(() => c.query('ROLLBACK').catch(() => undefined));
          throw err;
        }
      },
    );
    if (first.done) return first.result;
    const fault = first.faulty ? await this.store.tx((c) => this.drawFault(c, method, nodeId)) : null;
    if (first.latencyMs > 0) await sleep(first.latencyMs);
    if (fault && !fault.lands) throw fault.error;
    const result = await this.store.tx(async (c) => {
      const settle = this.settleNode('$1');
      const { rows } = await c.query(`WITH ${settle.with} SELECT ${settle.columns}`, [nodeId]);
      if (!rows[0].node) throw new DriverNotFoundError(`node ${nodeId} is not served by this hypervisor`);
      return transition ? this.runTransition(c, transition, rows[0].node) : (work as Work<T>)(c, rows[0].node);
    });
    if (fault) throw fault.error;
    return result;
  }

  /** A Transition inside a transaction open on `c`: its read, then its write. */
  private async runTransition<T>(c: PoolClient, transition: Transition<T>, node: Row): Promise<T> {
    const rows = transition.read.length ? resultsOf(await c.query(transition.read.join(';\n'))) : [];
    const { result, write = [] } = transition.decide(rows, node);
    if (write.length) await c.query(write.join(';\n'));
    return result as T;
  }

  /**
   * What every call does first, as parts of one statement: the guests of the node whose id is the SQL expression
   * `nodeId` that finished shutting down are off (`with`, a CTE), and `columns` reads the node's row as `node` (null
   * when this hypervisor does not serve it).
   */
  private settleNode(nodeId: string): { with: string; columns: string } {
    return {
      with: `settled AS (UPDATE ${this.t('vms')} SET ${POWER_OFF} WHERE node_id = ${nodeId} AND ${SHUT_DOWN} RETURNING 1)`,
      columns: `(SELECT row_to_json(n) FROM ${this.t('nodes')} n WHERE n.id = ${nodeId}) AS node, (SELECT count(*) FROM settled) AS settled`,
    };
  }

  /** The first fault that covers this call and fires, with its counters moved on. */
  private async drawFault(c: PoolClient, method: DriverMethod, nodeId: string): Promise<{ error: DriverError; lands: boolean } | null> {
    const { rows } = await c.query(
      `SELECT * FROM ${this.t('faults')} WHERE method IN ($1, '*') AND (node_id IS NULL OR node_id = $2) ORDER BY id FOR UPDATE`,
      [method, nodeId],
    );
    for (const f of rows) {
      const active = f.seen >= f.skip_calls && (f.fail_calls === null || f.failed < f.fail_calls);
      const fires = active && Math.random() < f.probability;
      await c.query(`UPDATE ${this.t('faults')} SET seen = seen + 1, failed = failed + $2 WHERE id = $1`, [f.id, fires ? 1 : 0]);
      if (fires) {
        const ErrorClass = FAULT_ERROR_CLASSES[f.error as FaultError] ?? DriverUnavailableError;
        const message =
          f.message ??
          `injected fault #${f.id}: ${method} on node ${nodeId} ${f.lands ? 'did its work, then failed' : 'failed'} (${f.error})`;
        return { error: new ErrorClass(message), lands: f.lands };
      }
    }
    return null;
  }

  /**
   * What the node's guests, disks and migrations hold of it, read to decide whether it can take more: the node's row
   * is locked first, so that two calls taking from the same node decide one after the other.
   */
  private async usedOn(c: PoolClient, nodeId: string): Promise<{ memoryMb: number; storageGb: number }> {
    const [, [usage]] = resultsOf(await c.query(this.usageReads(nodeId).join(';\n')));
    return toUsage(usage);
  }

  /**
   * The reads that decide whether the node can take more (two results: the lock's, then the usage's). The lock is a
   * statement of its own: under READ COMMITTED a statement sees what was committed when it began, so the usage is
   * read only once the lock is held, after the commit of the call that held it before. Without the lock, two
   * starts (or new disks) read the same usage at once, and both fit where only one did.
   */
  private usageReads(nodeId: string): [string, string] {
    return [sql(`SELECT 1 FROM ${this.t('nodes')} WHERE id = $1 FOR UPDATE`, [nodeId]), this.usageSql(nodeId)];
  }

  /** What the node's guests, disks and migrations hold of its memory and storage (one row; see toUsage). */
  private usageSql(nodeId: string): string {
    return sql(
      `SELECT
         (SELECT coalesce(sum(memory_mb), 0) FROM ${this.t('vms')} WHERE node_id = $1 AND power_state <> 'stopped')
         + (SELECT coalesce(sum(memory_mb), 0) FROM ${this.t('migrations')} WHERE target_node_id = $1 AND state IN ${RESERVING}) AS memory_mb,
         (SELECT coalesce(sum(size_gb), 0) FROM ${this.t('disks')} WHERE node_id = $1)
         + (SELECT coalesce(sum(storage_gb), 0) FROM ${this.t('migrations')}
            WHERE (target_node_id = $1 AND state IN ${RESERVING}) OR (source_node_id = $1 AND state = 'switched')) AS storage_gb`,
      [nodeId],
    );
  }

  /** A statement that reads the row `id` of `table` and locks it until the call ends. */
  private lockSql(table: string, id: string): string {
    return sql(`SELECT * FROM ${this.t(table)} WHERE id = $1 FOR UPDATE`, [id]);
  }

  /** `node`: the row of the call's node, as `call` read it. */
  private async reserveStorage(c: PoolClient, node: Row, gb: number, what: string): Promise<void> {
    checkStorage(node, await this.usedOn(c, node.id), gb, what);
  }

  /** What a new disk's Transition reads (newDisk decides on it): the disk, should it exist already, and the node's usage. */
  private newDiskReads(nodeId: string, diskId: string): string[] {
    return [this.lockSql('disks', diskId), ...this.usageReads(nodeId)];
  }

  private newDisk(
    [[existing], , [usage]]: Row[][],
    node: Row,
    diskId: string,
    sizeGb: number,
    content: string,
    origin = content,
  ): { write?: string[] } {
    if (existing) {
      if (existing.node_id !== node.id || existing.size_gb !== sizeGb) {
        throw new DriverInvalidStateError(`disk ${diskId} already exists with another definition`);
      }
      return {};
    }
    checkStorage(node, toUsage(usage), sizeGb, `disk ${diskId} (${origin})`);
    return {
      write: [
        sql(`INSERT INTO ${this.t('disks')} (id, node_id, size_gb, content) VALUES ($1, $2, $3, $4)`, [diskId, node.id, sizeGb, content]),
      ],
    };
  }

  private attach(table: 'disks' | 'nics', nodeId: string, id: string, vmId: string, position: number): Transition<void> {
    const what = table === 'disks' ? 'disk' : 'interface';
    return {
      read: [
        this.lockSql('vms', vmId),
        this.lockSql(table, id),
        sql(`SELECT id FROM ${this.t(table)} WHERE vm_id = $1 AND position = $2`, [vmId, position]),
      ],
      decide: ([[vmRow], [itemRow], taken]) => {
        const vm = found(vmRow, nodeId, `VM ${vmId}`);
        const item = found(itemRow, nodeId, `${what} ${id}`);
        if (item.vm_id === vmId && item.position === position) return {};
        if (item.vm_id) throw new DriverInvalidStateError(`${what} ${id} is attached to VM ${item.vm_id}`);
        if (table === 'disks' && position === 0 && vm.power_state !== 'stopped') {
          throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; its boot disk changes only while it is stopped`);
        }
        if (taken.length) throw new DriverInvalidStateError(`VM ${vmId} already has ${what} ${taken[0].id} at position ${position}`);
        return { write: [sql(`UPDATE ${this.t(table)} SET vm_id = $2, position = $3 WHERE id = $1`, [id, vmId, position])] };
      },
    };
  }

  private detach(table: 'disks' | 'nics', nodeId: string, id: string, vmId: string): Transition<void> {
    const what = table === 'disks' ? 'disk' : 'interface';
    return {
      // The VM first, as attach locks them: a disk's VM matters when it is the boot disk.
      read: [...(table === 'disks' ? [this.lockSql('vms', vmId)] : []), this.lockSql(table, id)],
      decide: (rows) => {
        const [[vm], [itemRow]] = table === 'disks' ? rows : [[], ...rows];
        const item = found(itemRow, nodeId, `${what} ${id}`);
        if (item.vm_id === null) return {};
        if (item.vm_id !== vmId) throw new DriverInvalidStateError(`${what} ${id} is attached to VM ${item.vm_id}, not ${vmId}`);
        if (table === 'disks' && item.position === 0 && vm && vm.power_state !== 'stopped') {
          throw new DriverInvalidStateError(`VM ${vmId} is ${vm.power_state}; its boot disk stays attached while it runs`);
        }
        return { write: [sql(`UPDATE ${this.t(table)} SET vm_id = NULL, position = NULL WHERE id = $1`, [id])] };
      },
    };
  }

  /** The ACPI button: the result says whether the guest is off now (it was, or it shuts down in no time). */
  private pressPowerButton(vmId: string, nodeId: string): Transition<boolean> {
    return {
      read: [this.lockSql('vms', vmId)],
      decide: ([[row]]) => {
        const vm = found(row, nodeId, `VM ${vmId}`);
        if (vm.power_state === 'stopped') return { result: true };
        // A guest without an agent, or a frozen one, does not react to the button.
        if (vm.power_state !== 'running' || !vm.guest_agent || vm.frozen) return { result: false };
        if (this.guestShutdownMs === 0)
          return { result: true, write: [sql(`UPDATE ${this.t('vms')} SET ${POWER_OFF} WHERE id = $1`, [vmId])] };
        return {
          result: false,
          write: [
            sql(
              `UPDATE ${this.t('vms')} SET power_state = 'stopping', stop_at = clock_timestamp() + make_interval(secs => $2) WHERE id = $1`,
              [vmId, this.guestShutdownMs / 1000],
            ),
          ],
        };
      },
    };
  }

  private async setFrozen(method: DriverMethod, nodeId: string, vmId: string, frozen: boolean): Promise<void> {
    await this.call(method, nodeId, async (c) => {
      await this.requireVm(c, vmId, nodeId);
      await c.query(`UPDATE ${this.t('vms')} SET frozen = $2 WHERE id = $1`, [vmId, frozen]);
    });
  }

  private async vmInfos(c: PoolClient, vms: Row[]): Promise<VmInfo[]> {
    const ids = vms.map((v) => v.id);
    const disks = await c.query(`SELECT id, vm_id, position FROM ${this.t('disks')} WHERE vm_id = ANY($1) ORDER BY position`, [ids]);
    const nics = await c.query(`SELECT id, vm_id, position FROM ${this.t('nics')} WHERE vm_id = ANY($1) ORDER BY position`, [ids]);
    const of = (rows: Row[], vmId: string) => rows.filter((r) => r.vm_id === vmId).map((r) => ({ id: r.id, position: r.position }));
    return vms.map((vm) => ({
      vmId: vm.id,
      nodeId: vm.node_id,
      hostname: vm.hostname,
      cpus: vm.cpus,
      memoryMb: vm.memory_mb,
      guestAgent: vm.guest_agent,
      rootPasswordHash: vm.root_password_hash,
      powerState: vm.power_state,
      frozen: vm.frozen,
      bootIso: vm.boot_iso,
      startedAt: vm.started_at ? vm.started_at.toISOString() : null,
      disks: of(disks.rows, vm.id),
      nics: of(nics.rows, vm.id),
    }));
  }

  /** The row `id` of `table`, locked until the call ends (lockSql); with `nodeId`, only if it is on that node. */
  private async lockRow(c: PoolClient, table: string, id: string, nodeId?: string): Promise<Row | undefined> {
    const [row] = (await c.query(this.lockSql(table, id))).rows;
    return nodeId === undefined ? row : onNode(row, nodeId);
  }

  private lockVm(c: PoolClient, vmId: string, nodeId?: string): Promise<Row | undefined> {
    return this.lockRow(c, 'vms', vmId, nodeId);
  }

  private async requireVm(c: PoolClient, vmId: string, nodeId: string): Promise<Row> {
    return found(await this.lockVm(c, vmId), nodeId, `VM ${vmId}`);
  }

  private async requireDisk(c: PoolClient, diskId: string, nodeId: string): Promise<Row> {
    return found(await this.lockRow(c, 'disks', diskId), nodeId, `disk ${diskId}`);
  }

  private async requireSnapshot(c: PoolClient, snapshotId: string, nodeId: string): Promise<Row> {
    return found(await this.lockRow(c, 'snapshots', snapshotId), nodeId, `snapshot ${snapshotId}`);
  }

  private async requireMigrationFrom(c: PoolClient, migrationId: string, sourceNodeId: string): Promise<Row> {
    const m = await this.lockRow(c, 'migrations', migrationId);
    if (!m || m.source_node_id !== sourceNodeId)
      throw new DriverNotFoundError(`migration ${migrationId} has no source on node ${sourceNodeId}`);
    return m;
  }
}

/** A guest whose shutdown time has come: it is off (set POWER_OFF where this holds). */
const SHUT_DOWN = `power_state = 'stopping' AND stop_at <= clock_timestamp()`;

const POWER_OFF = `power_state = 'stopped', stop_at = NULL, started_at = NULL, boot_iso = NULL`;

function toDiskInfo(row: Row): DiskInfo {
  return { diskId: row.id, nodeId: row.node_id, sizeGb: row.size_gb, content: row.content, vmId: row.vm_id, position: row.position };
}

function toSnapshotInfo(row: Row): SnapshotInfo {
  return {
    snapshotId: row.id,
    nodeId: row.node_id,
    diskId: row.disk_id,
    name: row.name,
    sizeGb: row.size_gb,
    fsfreeze: row.fsfreeze,
    createdAt: row.created_at.toISOString(),
  };
}

function toNicInfo(row: Row): NicInfo {
  return { nicId: row.id, nodeId: row.node_id, mac: row.mac, network: row.network, vmId: row.vm_id, position: row.position };
}

function toMigrationInfo(row: Row): MigrationInfo {
  return {
    migrationId: row.id,
    vmId: row.vm_id,
    sourceNodeId: row.source_node_id,
    targetNodeId: row.target_node_id,
    state: row.state,
    progress: row.progress,
    bytesTotal: Number(row.bytes_total),
  };
}

/**
 * `text` with its placeholders ($1, $2, …) replaced by `values` as SQL literals: for statements sent several in one
 * simple query, which takes no parameters.
 */
function sql(text: string, values: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = values[Number(n) - 1];
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string') return escapeLiteral(value);
    throw new TypeError(`no SQL literal for ${String(value)} ($${n})`);
  });
}

/** The rows of each statement of a simple query (pg answers one result when there was one statement). */
function resultsOf(answer: unknown): Row[][] {
  return (Array.isArray(answer) ? answer : [answer]).map((r: { rows: Row[] }) => r.rows);
}

/** `row`, when it is on node `nodeId` (a row the call read, or undefined). */
function onNode(row: Row | undefined, nodeId: string): Row | undefined {
  return row && row.node_id === nodeId ? row : undefined;
}

/** `row`, which must be on node `nodeId`: `what` (e.g. "VM vm-1") is not found there otherwise. */
function found(row: Row | undefined, nodeId: string, what: string): Row {
  const mine = onNode(row, nodeId);
  if (!mine) throw new DriverNotFoundError(`${what} not found on node ${nodeId}`);
  return mine;
}

function toUsage(row: Row): { memoryMb: number; storageGb: number } {
  return { memoryMb: Number(row.memory_mb), storageGb: Number(row.storage_gb) };
}

/** A node's storage can take `gb` more for `what`, given what is `used` of it. */
function checkStorage(node: Row, used: { storageGb: number }, gb: number, what: string): void {
  if (used.storageGb + gb > node.storage_gb) {
    throw new DriverCapacityError(`node ${node.id} has ${node.storage_gb - used.storageGb} GB of storage free; ${what} needs ${gb} GB`);
  }
}
