import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DiskInfo,
  HypervisorDriver,
  MigrationInfo,
  MigrationState,
  NicInfo,
  NodeAudit,
  NodeCapacity,
  PowerState,
  ProgressListener,
  SnapshotInfo,
  TransferListener,
  VmDefinition,
  VmInfo,
  VmUsage,
} from '../../../driver/src';
import { DriverCapacityError, DriverInvalidStateError, DriverNotFoundError, DriverUnavailableError } from '../../../driver/src';
import { QmpClient, QmpCommandError, type QmpBlockJob, type QmpBlockNode, type QmpBlockStats, type QmpMigrationInfo } from './qmp-client';
import {
  contentWrites,
  copyImage,
  createImage,
  exists,
  GiB,
  imageSizeGb,
  listNames,
  readContent,
  readJson,
  run,
  tempPath,
  writeJson,
} from './qemu-tools';

export interface QemuDriverOptions {
  /**
   * The directory every node of this machine keeps its state under: `nodes/<id>/` (VM definitions, qcow2 disks,
   * snapshot images, interfaces, QMP sockets and pidfiles), `images/` (the image store templates come from),
   * `isos/` and `migrations/` (the hand-over records both ends of a migration read).
   */
  root: string;
  /** The tiny guest (scripts/install-qemu.sh): VMs with a guest agent boot it and obey ACPI. */
  guestKernel: string;
  guestInitrd: string;
  /** `qemu-system-x86_64` unless told otherwise. */
  qemuBinary?: string;
  /** `tcg` (default: /dev/kvm may exist here and fault on real guests) or `kvm`. */
  accel?: string;
  /** Where the running VMs' sockets and pidfiles are (a short path: a unix socket's is at most 107 bytes); under the system's temporary directory by default. */
  socketDir?: string;
  /** How often a graceful stop presses the power button again (a guest still booting misses a press). */
  powerButtonRepeatMs?: number;
}

interface VmRecord extends VmDefinition {
  frozen: boolean;
  bootIso: string | null;
  startedAt: string | null;
  /** When the power button was pressed on a guest that obeys it: it reads `stopping` until its QEMU exits. */
  powerdownAt: string | null;
}

/** A snapshot as the node keeps it: its SnapshotInfo without the node (the directory says), and its order. */
interface SnapshotRecord extends Omit<SnapshotInfo, 'nodeId'> {
  seq: number;
}

interface NicRecord {
  nicId: string;
  mac: string;
  network: string;
}

interface ImageRecord {
  imageId: string;
  sizeGb: number;
  /** The disk it was captured from; null for a base image put in the store. */
  sourceDiskId: string | null;
}

interface MigrationRecord extends MigrationInfo {
  memoryMb: number;
  storageGb: number;
  /** Whether the VM ran when the transfer began: its disks are mirrored live and its memory moved at the switch-over. */
  live: boolean | null;
}

interface NodeRecord {
  capacity: NodeCapacity;
  seq: number;
}

/** Migration states in which the target holds a reservation. */
const RESERVING: MigrationState[] = ['prepared', 'transferring', 'transferred'];

/** A QEMU node name or device id (at most 31 characters) for an object id of any length. */
function qid(prefix: string, id: string): string {
  return `${prefix}${createHash('sha256').update(id).digest('hex').slice(0, 20)}`;
}

/**
 * A real hypervisor: one QEMU process per running VM (`-daemonize`, a QMP socket and a pidfile in the node's run
 * directory, so an agent that restarts finds its VMs again), qcow2 disks on virtio-scsi, `qemu-img` for offline
 * work. Snapshots are point-in-time qcow2 images beside the disk (`blockdev-backup` while the VM runs), so that
 * they travel with a migrating disk. Live migration mirrors the disks into the target's QEMU over NBD, then
 * moves the memory (`migrate`); until the switch-over completes the source keeps running, whatever fails.
 * Every call is idempotent: it looks at what QEMU and the node's files hold before it acts.
 */
export class QemuDriver implements HypervisorDriver {
  private readonly qemu: string;
  private readonly accel: string;
  private readonly repeatMs: number;
  private readonly socketDir: string;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly qmpClients = new Map<string, Promise<QmpClient>>();
  private readonly pressing = new Set<string>();

  constructor(private readonly options: QemuDriverOptions) {
    this.qemu = options.qemuBinary ?? 'qemu-system-x86_64';
    this.accel = options.accel ?? 'tcg';
    this.repeatMs = options.powerButtonRepeatMs ?? 1000;
    this.socketDir =
      options.socketDir ?? join(tmpdir(), `vmops-qemu-${createHash('sha256').update(options.root).digest('hex').slice(0, 12)}`);
  }

  /** Serves `nodeId` with this capacity from now on (creates its directories). */
  async registerNode(nodeId: string, capacity: NodeCapacity): Promise<void> {
    await this.withLock([nodeId], async () => {
      const existing = await readJson<NodeRecord>(this.nodeFile(nodeId));
      await writeJson(this.nodeFile(nodeId), { capacity, seq: existing?.seq ?? 0 });
      for (const dir of ['vms', 'disks', 'snapshots', 'nics', 'held', 'incoming'])
        await fs.mkdir(join(this.nodeDir(nodeId), dir), { recursive: true });
    });
  }

  /** Puts a base image in the store: a blank qcow2 of `sizeGb` labelled `template:<id>` (a real image may replace it). */
  async ensureBaseImage(imageId: string, sizeGb: number): Promise<void> {
    if (await readJson<ImageRecord>(this.imageMeta(imageId))) return;
    await fs.mkdir(join(this.options.root, 'images'), { recursive: true });
    // Agents of several nodes may put the same base image at once: each writes its own file, the last rename wins.
    const tmp = tempPath(this.imageFile(imageId));
    await createImage(tmp, sizeGb);
    await run('qemu-io', ['-f', 'qcow2', ...contentWrites(`template:${imageId}`).flatMap((c) => ['-c', c]), tmp]);
    await fs.rename(tmp, this.imageFile(imageId));
    await writeJson(this.imageMeta(imageId), { imageId, sizeGb, sourceDiskId: null } satisfies ImageRecord);
  }

  /** The guest kit: what a guest writes to its disk (into the running QEMU when it runs). */
  async guestWrite(nodeId: string, diskId: string, label: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      const path = await this.requireDiskFile(nodeId, diskId);
      const holder = (await this.attachments(nodeId)).disks.get(diskId);
      if (holder && (await this.alive(nodeId, holder.vmId))) {
        const q = await this.qmp(nodeId, holder.vmId);
        for (const c of contentWrites(label)) {
          const out = await q.execute<string>('human-monitor-command', { 'command-line': `qemu-io -d ${qid('v', diskId)} "${c}"` });
          if (out && /error|failed/i.test(out)) throw new Error(`guest write to ${diskId}: ${out.trim()}`);
        }
        return;
      }
      await run('qemu-io', ['-f', 'qcow2', ...contentWrites(label).flatMap((c) => ['-c', c]), path]);
    });
  }

  /** What the VM's serial console printed since it last started (the tiny guest says `vmops-guest: up`). */
  async serialLog(nodeId: string, vmId: string): Promise<string> {
    return fs.readFile(this.runFile(nodeId, vmId, 'serial'), 'utf8').catch(() => '');
  }

  /** Kills every QEMU this driver started under its root (tests) and drops the QMP connections. */
  async destroyAll(): Promise<void> {
    for (const name of await listNames(this.socketDir, '.pid')) {
      const pid = await this.pidOf(join(this.socketDir, `${name}.pid`), join(this.socketDir, `${name}.qmp`));
      if (pid) process.kill(pid, 'SIGKILL');
    }
    await this.close();
    await fs.rm(this.socketDir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const c of this.qmpClients.values())
      await c.then(
        (q) => q.close(),
        () => undefined,
      );
    this.qmpClients.clear();
  }

  // ---- VMs

  async defineVm(nodeId: string, def: VmDefinition): Promise<void> {
    await this.withLock([nodeId], async () => {
      const node = await this.node(nodeId);
      const elsewhere = await this.nodeHolding((n) => this.vmFile(n, def.vmId));
      if (elsewhere) {
        if (elsewhere !== nodeId) throw new DriverInvalidStateError(`VM ${def.vmId} is defined on node ${elsewhere}`);
        return;
      }
      if (def.cpus > node.capacity.cpus)
        throw new DriverCapacityError(`node ${nodeId} has ${node.capacity.cpus} CPUs; VM ${def.vmId} asks for ${def.cpus}`);
      const { disks, nics } = await this.attachments(nodeId);
      for (const [kind, list, held, has] of [
        ['disk', def.disks, disks, (id: string) => exists(this.diskFile(nodeId, id))],
        ['interface', def.nics, nics, (id: string) => exists(this.nicFile(nodeId, id))],
      ] as const) {
        for (const a of list) {
          if (!(await has(a.id))) throw new DriverNotFoundError(`${kind} ${a.id} not found on node ${nodeId}`);
          const holder = held.get(a.id);
          if (holder) throw new DriverInvalidStateError(`${kind} ${a.id} is attached to VM ${holder.vmId}`);
        }
        if (new Set(list.map((a) => a.position)).size !== list.length)
          throw new DriverInvalidStateError(`VM ${def.vmId} has two ${kind}s at one position`);
      }
      const record: VmRecord = {
        ...def,
        rootPasswordHash: def.rootPasswordHash ?? null,
        frozen: false,
        bootIso: null,
        startedAt: null,
        powerdownAt: null,
      };
      await writeJson(this.vmFile(nodeId, def.vmId), record);
    });
  }

  async undefineVm(nodeId: string, vmId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      const vm = await this.vmRecord(nodeId, vmId);
      if (!vm) return;
      if (await this.alive(nodeId, vmId))
        throw new DriverInvalidStateError(`VM ${vmId} is ${await this.powerState(nodeId, vm)}; stop it first`);
      await fs.rm(this.vmFile(nodeId, vmId), { force: true });
    });
  }

  async getVm(nodeId: string, vmId: string): Promise<VmInfo | null> {
    await this.node(nodeId);
    const vm = await this.vmRecord(nodeId, vmId);
    return vm ? this.vmInfo(nodeId, vm) : null;
  }

  async resizeVm(nodeId: string, vmId: string, size: { cpus: number; memoryMb: number }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const node = await this.node(nodeId);
      const vm = await this.requireVm(nodeId, vmId);
      if (await this.alive(nodeId, vmId))
        throw new DriverInvalidStateError(`VM ${vmId} is ${await this.powerState(nodeId, vm)}; resize it stopped`);
      if (size.cpus > node.capacity.cpus)
        throw new DriverCapacityError(`node ${nodeId} has ${node.capacity.cpus} CPUs; VM ${vmId} asks for ${size.cpus}`);
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, cpus: size.cpus, memoryMb: size.memoryMb });
    });
  }

  async startVm(nodeId: string, vmId: string, options: { bootIso?: string } = {}): Promise<void> {
    await this.withLock([nodeId], async () => {
      const node = await this.node(nodeId);
      const vm = await this.requireVm(nodeId, vmId);
      // Running, or started by an earlier attempt and still on its way up: never a second QEMU.
      if (await this.awaitStartingQemu(nodeId, vmId)) {
        if ((await this.powerState(nodeId, vm)) === 'stopping') throw new DriverInvalidStateError(`VM ${vmId} is shutting down`);
        // An earlier attempt started QEMU and was cut short before it wrote down when.
        if (!vm.startedAt) await writeJson(this.vmFile(nodeId, vmId), { ...vm, startedAt: new Date().toISOString() });
        return;
      }
      if (vm.frozen) throw new DriverInvalidStateError(`VM ${vmId} is frozen; unfreeze it first`);
      if (!options.bootIso && !vm.disks.some((d) => d.position === 0)) throw new DriverInvalidStateError(`VM ${vmId} has no boot disk`);
      if (options.bootIso && !(await exists(this.isoFile(options.bootIso)))) {
        throw new DriverNotFoundError(`ISO ${options.bootIso} is not in the image store (${this.isoFile(options.bootIso)})`);
      }
      const used = await this.usedOn(nodeId);
      if (used.memoryMb + vm.memoryMb > node.capacity.memoryMb) {
        throw new DriverCapacityError(
          `node ${nodeId} has ${node.capacity.memoryMb - used.memoryMb} MB of memory free; VM ${vmId} needs ${vm.memoryMb}`,
        );
      }
      // Written first: a QEMU that runs is never without its start time, whenever this call is cut short.
      const started: VmRecord = { ...vm, startedAt: new Date().toISOString(), bootIso: options.bootIso ?? null, powerdownAt: null };
      await writeJson(this.vmFile(nodeId, vmId), started);
      try {
        await this.spawn(nodeId, started, {});
      } catch (err) {
        // An attempt cut short had forked its QEMU but not yet exec'd it when we looked (its command line was not
        // QEMU's yet): that QEMU took the disks first. It is the VM's one QEMU: wait for it, as for any starting one.
        if (/Failed to get "write" lock/.test((err as Error).message) && (await this.awaitStartingQemu(nodeId, vmId))) return;
        if (!(await this.alive(nodeId, vmId))) await writeJson(this.vmFile(nodeId, vmId), { ...started, startedAt: null, bootIso: null });
        throw err;
      }
    });
  }

  async shutdownVm(nodeId: string, vmId: string): Promise<void> {
    await this.withLock([nodeId], () => this.pressPowerButton(nodeId, vmId));
    this.keepPressing(nodeId, vmId);
  }

  async stopVm(
    nodeId: string,
    vmId: string,
    { timeoutSeconds, onProgress }: { timeoutSeconds: number; onProgress?: ProgressListener },
  ): Promise<'stopped' | 'timed_out'> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (let pressedAt = 0; ;) {
      if (!(await this.alive(nodeId, vmId))) {
        await this.requireVm(nodeId, vmId);
        await this.settleStopped(nodeId, vmId);
        return 'stopped';
      }
      if (Date.now() - pressedAt >= this.repeatMs) {
        await this.withLock([nodeId], () => this.pressPowerButton(nodeId, vmId));
        pressedAt = Date.now();
      }
      const left = deadline - Date.now();
      if (left <= 0) return 'timed_out';
      onProgress?.(Math.min(99, Math.round(100 - (left / (timeoutSeconds * 1000)) * 100)));
      await sleep(Math.min(left, 100));
    }
  }

  async forceStopVm(nodeId: string, vmId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      await this.requireVm(nodeId, vmId);
      await this.kill(nodeId, vmId);
      await this.settleStopped(nodeId, vmId);
    });
  }

  async resetVm(nodeId: string, vmId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      const vm = await this.requireVm(nodeId, vmId);
      if (!(await this.alive(nodeId, vmId))) throw new DriverInvalidStateError(`VM ${vmId} is stopped; only a running VM can be reset`);
      await (await this.qmp(nodeId, vmId)).execute('system_reset');
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, startedAt: new Date().toISOString(), bootIso: null, powerdownAt: null });
    });
  }

  async freezeVm(nodeId: string, vmId: string): Promise<void> {
    await this.setFrozen(nodeId, vmId, true);
  }

  async unfreezeVm(nodeId: string, vmId: string): Promise<void> {
    await this.setFrozen(nodeId, vmId, false);
  }

  async consoleUrl(nodeId: string, vmId: string): Promise<string> {
    await this.requireVm(nodeId, vmId);
    if (!(await this.alive(nodeId, vmId))) throw new DriverInvalidStateError(`VM ${vmId} is stopped; it has no console`);
    return `vnc+unix://${this.runFile(nodeId, vmId, 'vnc')}`;
  }

  async usage(nodeId: string, vmId: string): Promise<VmUsage> {
    const vm = await this.requireVm(nodeId, vmId);
    const pid = await this.pid(nodeId, vmId);
    if (!pid)
      return { uptimeSeconds: 0, cpuSeconds: 0, memoryUsedMb: 0, diskReadBytes: 0, diskWriteBytes: 0, netRxBytes: 0, netTxBytes: 0 };
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = 100;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const stats = await (await this.qmp(nodeId, vmId)).execute<QmpBlockStats[]>('query-blockstats', { 'query-nodes': false });
    const sum = (key: string) => stats.reduce((n, s) => n + (s.stats?.[key] ?? 0), 0);
    return {
      uptimeSeconds: vm.startedAt ? Math.max(0, Math.floor((Date.now() - Date.parse(vm.startedAt)) / 1000)) : 0,
      cpuSeconds: Math.round((Number(stat[11]) + Number(stat[12])) / ticks),
      memoryUsedMb: rss ? Math.round(Number(rss[1]) / 1024) : 0,
      diskReadBytes: sum('rd_bytes'),
      diskWriteBytes: sum('wr_bytes'),
      // User-mode networking keeps no counters QMP reports.
      netRxBytes: 0,
      netTxBytes: 0,
    };
  }

  // ---- Disks

  async createBlankDisk(nodeId: string, disk: { diskId: string; sizeGb: number }): Promise<void> {
    await this.createDisk(nodeId, disk.diskId, disk.sizeGb, 'blank', (tmp) => createImage(tmp, disk.sizeGb));
  }

  async createDiskFromTemplate(nodeId: string, disk: { diskId: string; templateId: string; sizeGb: number }): Promise<void> {
    const image = await readJson<ImageRecord>(this.imageMeta(disk.templateId));
    if (!image) throw new DriverNotFoundError(`template image ${disk.templateId} is not in the image store`);
    if (disk.sizeGb < image.sizeGb)
      throw new DriverInvalidStateError(`image ${disk.templateId} needs a disk of at least ${image.sizeGb} GB`);
    await this.createDisk(nodeId, disk.diskId, disk.sizeGb, `template ${disk.templateId}`, (tmp) =>
      copyImage(this.imageFile(disk.templateId), tmp, disk.sizeGb),
    );
  }

  async createDiskFromSnapshot(nodeId: string, disk: { diskId: string; snapshotId: string; sizeGb?: number }): Promise<void> {
    const snap = await this.requireSnapshot(nodeId, disk.snapshotId);
    const sizeGb = disk.sizeGb ?? snap.sizeGb;
    if (sizeGb < snap.sizeGb) throw new DriverInvalidStateError(`snapshot ${disk.snapshotId} needs a disk of at least ${snap.sizeGb} GB`);
    await this.createDisk(nodeId, disk.diskId, sizeGb, `snapshot ${disk.snapshotId}`, (tmp) =>
      copyImage(this.snapshotFile(nodeId, disk.snapshotId), tmp, sizeGb),
    );
  }

  async captureImage(nodeId: string, image: { imageId: string; diskId: string; fsfreeze: boolean }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const existing = await readJson<ImageRecord>(this.imageMeta(image.imageId));
      if (existing) {
        if (existing.sourceDiskId !== image.diskId)
          throw new DriverInvalidStateError(`image ${image.imageId} was captured from another disk`);
        return;
      }
      const path = await this.requireDiskFile(nodeId, image.diskId);
      await fs.mkdir(join(this.options.root, 'images'), { recursive: true });
      await this.pointInTimeCopy(nodeId, image.diskId, path, this.imageFile(image.imageId), image.fsfreeze, 'capture a consistent image');
      await writeJson(this.imageMeta(image.imageId), {
        imageId: image.imageId,
        sizeGb: await imageSizeGb(path),
        sourceDiskId: image.diskId,
      } satisfies ImageRecord);
    });
  }

  async deleteImage(nodeId: string, imageId: string): Promise<void> {
    await this.node(nodeId);
    await fs.rm(this.imageMeta(imageId), { force: true });
    await fs.rm(this.imageFile(imageId), { force: true });
  }

  async resizeDisk(nodeId: string, diskId: string, sizeGb: number): Promise<void> {
    await this.withLock([nodeId], async () => {
      const path = await this.requireDiskFile(nodeId, diskId);
      const current = await imageSizeGb(path);
      if (sizeGb === current) return;
      if (sizeGb < current) throw new DriverInvalidStateError(`disk ${diskId} is ${current} GB; disks grow, they do not shrink`);
      await this.reserveStorage(nodeId, sizeGb - current, `grow disk ${diskId}`);
      const holder = (await this.attachments(nodeId)).disks.get(diskId);
      if (holder && (await this.alive(nodeId, holder.vmId))) {
        await (await this.qmp(nodeId, holder.vmId)).execute('block_resize', { 'node-name': qid('d', diskId), size: sizeGb * GiB });
      } else {
        await run('qemu-img', ['resize', '-q', path, `${sizeGb}G`]);
      }
    });
  }

  async deleteDisk(nodeId: string, diskId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      if (!(await exists(this.diskFile(nodeId, diskId)))) return;
      const holder = (await this.attachments(nodeId)).disks.get(diskId);
      if (holder) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${holder.vmId}`);
      for (const s of await this.snapshots(nodeId)) if (s.diskId === diskId) await this.removeSnapshot(nodeId, s.snapshotId);
      await fs.rm(this.diskFile(nodeId, diskId), { force: true });
    });
  }

  async getDisk(nodeId: string, diskId: string): Promise<DiskInfo | null> {
    await this.node(nodeId);
    if (!(await exists(this.diskFile(nodeId, diskId)))) return null;
    const holder = (await this.attachments(nodeId)).disks.get(diskId);
    return this.diskInfo(nodeId, diskId, holder);
  }

  async attachDisk(nodeId: string, { diskId, vmId, position }: { diskId: string; vmId: string; position: number }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const vm = await this.requireVm(nodeId, vmId);
      const path = await this.requireDiskFile(nodeId, diskId);
      const holder = (await this.attachments(nodeId)).disks.get(diskId);
      if (holder?.vmId === vmId && holder.position === position) return;
      if (holder) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${holder.vmId}`);
      const running = await this.alive(nodeId, vmId);
      if (position === 0 && running)
        throw new DriverInvalidStateError(`VM ${vmId} is running; its boot disk changes only while it is stopped`);
      const taken = vm.disks.find((d) => d.position === position);
      if (taken) throw new DriverInvalidStateError(`VM ${vmId} already has disk ${taken.id} at position ${position}`);
      if (running) {
        const q = await this.qmp(nodeId, vmId);
        const nodes = await q.execute<QmpBlockNode[]>('query-named-block-nodes', { flat: true });
        if (!nodes.some((n) => n['node-name'] === qid('d', diskId))) await q.execute('blockdev-add', diskBlockdev(diskId, path));
        if (!(await this.hasDevice(q, qid('v', diskId)))) await q.execute('device_add', diskDevice(diskId, position));
      }
      await writeJson(this.vmFile(nodeId, vmId), {
        ...vm,
        disks: [...vm.disks, { id: diskId, position }].sort((a, b) => a.position - b.position),
      });
    });
  }

  async detachDisk(nodeId: string, { diskId, vmId }: { diskId: string; vmId: string }): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.requireDiskFile(nodeId, diskId);
      const holder = (await this.attachments(nodeId)).disks.get(diskId);
      if (!holder) return;
      if (holder.vmId !== vmId) throw new DriverInvalidStateError(`disk ${diskId} is attached to VM ${holder.vmId}, not ${vmId}`);
      const vm = await this.requireVm(nodeId, vmId);
      if (await this.alive(nodeId, vmId)) {
        if (holder.position === 0) throw new DriverInvalidStateError(`VM ${vmId} is running; its boot disk stays attached while it runs`);
        const q = await this.qmp(nodeId, vmId);
        await this.unplug(q, qid('v', diskId), `disk ${diskId}`);
        const nodes = await q.execute<QmpBlockNode[]>('query-named-block-nodes', { flat: true });
        if (nodes.some((n) => n['node-name'] === qid('d', diskId))) await q.execute('blockdev-del', { 'node-name': qid('d', diskId) });
      }
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, disks: vm.disks.filter((d) => d.id !== diskId) });
    });
  }

  // ---- Snapshots

  async createSnapshot(nodeId: string, s: { snapshotId: string; diskId: string; name: string; fsfreeze: boolean }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const existing = await this.snapshotRecord(nodeId, s.snapshotId);
      if (existing) {
        if (existing.diskId !== s.diskId) throw new DriverInvalidStateError(`snapshot ${s.snapshotId} exists on disk ${existing.diskId}`);
        return;
      }
      const path = await this.requireDiskFile(nodeId, s.diskId);
      const holder = (await this.attachments(nodeId)).disks.get(s.diskId);
      const vm = holder ? await this.vmRecord(nodeId, holder.vmId) : null;
      if (s.fsfreeze && vm && !vm.guestAgent && (await this.alive(nodeId, vm.vmId))) {
        throw new DriverInvalidStateError(`VM ${vm.vmId} runs without a guest agent: its filesystems cannot be frozen`);
      }
      await this.pointInTimeCopy(nodeId, s.diskId, path, this.snapshotFile(nodeId, s.snapshotId), s.fsfreeze, null);
      const record: SnapshotRecord = {
        snapshotId: s.snapshotId,
        diskId: s.diskId,
        name: s.name,
        sizeGb: await imageSizeGb(path),
        fsfreeze: s.fsfreeze,
        createdAt: new Date().toISOString(),
        seq: await this.nextSeq(nodeId),
      };
      await writeJson(this.snapshotMeta(nodeId, s.snapshotId), record);
    });
  }

  async listSnapshots(nodeId: string, filter: { diskId?: string } = {}): Promise<SnapshotInfo[]> {
    await this.node(nodeId);
    return (await this.snapshots(nodeId)).filter((s) => !filter.diskId || s.diskId === filter.diskId).map((s) => toSnapshotInfo(nodeId, s));
  }

  async deleteSnapshot(nodeId: string, snapshotId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      await this.removeSnapshot(nodeId, snapshotId);
    });
  }

  async rollbackSnapshot(nodeId: string, snapshotId: string, options: { targetDiskId?: string; discardSnapshots: boolean }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const snap = await this.requireSnapshot(nodeId, snapshotId);
      const targetId = options.targetDiskId ?? snap.diskId;
      const target = await this.requireDiskFile(nodeId, targetId);
      const holder = (await this.attachments(nodeId)).disks.get(targetId);
      if (holder && (await this.alive(nodeId, holder.vmId)))
        throw new DriverInvalidStateError(`VM ${holder.vmId} is running; stop it before a rollback`);
      const targetGb = await imageSizeGb(target);
      if (targetGb < snap.sizeGb)
        throw new DriverInvalidStateError(`disk ${targetId} is ${targetGb} GB; snapshot ${snapshotId} needs ${snap.sizeGb} GB`);
      const invalidated = (await this.snapshots(nodeId)).filter(
        (s) => s.diskId === targetId && (targetId !== snap.diskId || s.seq > snap.seq),
      );
      if (invalidated.length && !options.discardSnapshots) {
        throw new DriverInvalidStateError(
          `the rollback would invalidate snapshot(s) ${invalidated.map((s) => s.snapshotId).join(', ')} of disk ${targetId}; discard them to go on`,
        );
      }
      for (const s of invalidated) await this.removeSnapshot(nodeId, s.snapshotId);
      await copyImage(this.snapshotFile(nodeId, snapshotId), target, targetGb);
    });
  }

  // ---- Network interfaces

  async createNic(nodeId: string, nic: { nicId: string; mac: string; network: string }): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      const existing = await this.nicRecordAnywhere(nic.nicId);
      if (existing) {
        if (existing.nodeId !== nodeId || existing.nic.mac !== nic.mac || existing.nic.network !== nic.network) {
          throw new DriverInvalidStateError(`interface ${nic.nicId} already exists with another definition`);
        }
        return;
      }
      await writeJson(this.nicFile(nodeId, nic.nicId), { nicId: nic.nicId, mac: nic.mac, network: nic.network } satisfies NicRecord);
    });
  }

  async attachNic(nodeId: string, { nicId, vmId, position }: { nicId: string; vmId: string; position: number }): Promise<void> {
    await this.withLock([nodeId], async () => {
      const vm = await this.requireVm(nodeId, vmId);
      const nic = await readJson<NicRecord>(this.nicFile(nodeId, nicId));
      if (!nic) throw new DriverNotFoundError(`interface ${nicId} not found on node ${nodeId}`);
      const holder = (await this.attachments(nodeId)).nics.get(nicId);
      if (holder?.vmId === vmId && holder.position === position) return;
      if (holder) throw new DriverInvalidStateError(`interface ${nicId} is attached to VM ${holder.vmId}`);
      const taken = vm.nics.find((n) => n.position === position);
      if (taken) throw new DriverInvalidStateError(`VM ${vmId} already has interface ${taken.id} at position ${position}`);
      if (await this.alive(nodeId, vmId)) {
        const q = await this.qmp(nodeId, vmId);
        const netdevs = await q.execute<{ id: string }[]>('query-netdev').catch(() => [] as { id: string }[]);
        if (!netdevs.some((n) => n.id === qid('n', nicId)))
          await q.execute('netdev_add', { type: 'user', id: qid('n', nicId), restrict: true });
        if (!(await this.hasDevice(q, qid('i', nicId))))
          await q.execute('device_add', { driver: 'virtio-net-pci', netdev: qid('n', nicId), mac: nic.mac, id: qid('i', nicId) });
      }
      await writeJson(this.vmFile(nodeId, vmId), {
        ...vm,
        nics: [...vm.nics, { id: nicId, position }].sort((a, b) => a.position - b.position),
      });
    });
  }

  async detachNic(nodeId: string, { nicId, vmId }: { nicId: string; vmId: string }): Promise<void> {
    await this.withLock([nodeId], async () => {
      if (!(await exists(this.nicFile(nodeId, nicId)))) throw new DriverNotFoundError(`interface ${nicId} not found on node ${nodeId}`);
      const holder = (await this.attachments(nodeId)).nics.get(nicId);
      if (!holder) return;
      if (holder.vmId !== vmId) throw new DriverInvalidStateError(`interface ${nicId} is attached to VM ${holder.vmId}, not ${vmId}`);
      const vm = await this.requireVm(nodeId, vmId);
      if (await this.alive(nodeId, vmId)) {
        const q = await this.qmp(nodeId, vmId);
        // PCI unplug needs the guest's consent (ACPI): a guest that does not give it keeps the interface.
        await this.unplug(q, qid('i', nicId), `interface ${nicId}`);
        await q.execute('netdev_del', { id: qid('n', nicId) }).catch(() => undefined);
      }
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, nics: vm.nics.filter((n) => n.id !== nicId) });
    });
  }

  async deleteNic(nodeId: string, nicId: string): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      if (!(await exists(this.nicFile(nodeId, nicId)))) return;
      const holder = (await this.attachments(nodeId)).nics.get(nicId);
      if (holder) throw new DriverInvalidStateError(`interface ${nicId} is attached to VM ${holder.vmId}`);
      await fs.rm(this.nicFile(nodeId, nicId), { force: true });
    });
  }

  // ---- Migration

  async prepareMigrationTarget(targetNodeId: string, m: { migrationId: string; vmId: string; sourceNodeId: string }): Promise<void> {
    await this.withLock([targetNodeId, m.sourceNodeId], async () => {
      const existing = await this.migration(m.migrationId);
      if (existing) {
        if (existing.targetNodeId !== targetNodeId || existing.vmId !== m.vmId)
          throw new DriverInvalidStateError(`migration ${m.migrationId} exists for another VM or target`);
        return;
      }
      if (targetNodeId === m.sourceNodeId) throw new DriverInvalidStateError(`VM ${m.vmId} is already on node ${targetNodeId}`);
      const node = await this.node(targetNodeId);
      const vm = await this.requireVm(m.sourceNodeId, m.vmId);
      const busy = (await this.migrations()).find((x) => x.vmId === vm.vmId && RESERVING.includes(x.state));
      if (busy) throw new DriverInvalidStateError(`VM ${vm.vmId} is already migrating (${busy.migrationId})`);
      if (vm.cpus > node.capacity.cpus)
        throw new DriverCapacityError(`node ${targetNodeId} has ${node.capacity.cpus} CPUs; VM ${vm.vmId} has ${vm.cpus}`);
      let storageGb = 0;
      for (const d of vm.disks) storageGb += await imageSizeGb(this.diskFile(m.sourceNodeId, d.id));
      const used = await this.usedOn(targetNodeId);
      if (used.memoryMb + vm.memoryMb > node.capacity.memoryMb) {
        throw new DriverCapacityError(
          `node ${targetNodeId} has ${node.capacity.memoryMb - used.memoryMb} MB of memory free; VM ${vm.vmId} needs ${vm.memoryMb}`,
        );
      }
      await this.reserveStorage(targetNodeId, storageGb, `receive VM ${vm.vmId}`);
      const running = await this.alive(m.sourceNodeId, vm.vmId);
      const record: MigrationRecord = {
        migrationId: m.migrationId,
        vmId: vm.vmId,
        sourceNodeId: m.sourceNodeId,
        targetNodeId,
        state: 'prepared',
        progress: 0,
        // The disks are copied; the memory too when the VM runs (a live migration).
        bytesTotal: storageGb * GiB + (running ? vm.memoryMb * 2 ** 20 : 0),
        memoryMb: vm.memoryMb,
        storageGb,
        live: null,
      };
      await writeJson(this.migrationFile(m.migrationId), record);
    });
  }

  async transferVm(sourceNodeId: string, migrationId: string, onProgress?: TransferListener): Promise<void> {
    const m = await this.withLock([sourceNodeId], async () => {
      const m = await this.requireMigrationFrom(migrationId, sourceNodeId);
      if (m.state !== 'prepared' && m.state !== 'transferring') return m;
      const live = m.live ?? (await this.alive(sourceNodeId, m.vmId));
      const next = { ...m, state: 'transferring' as const, live };
      await writeJson(this.migrationFile(migrationId), next);
      return next;
    });
    if (m.state !== 'transferring') return;
    const report = (percent: number) => {
      onProgress?.({ percent, bytesTransferred: Math.round((m.bytesTotal * percent) / 100), bytesTotal: m.bytesTotal });
    };
    const vm = await this.requireVm(sourceNodeId, m.vmId);
    const incoming = this.incomingDir(m.targetNodeId, migrationId);
    await fs.mkdir(incoming, { recursive: true });
    // Snapshot images never change: copied as they are, whether the VM runs or not.
    for (const s of await this.snapshots(sourceNodeId)) {
      if (vm.disks.some((d) => d.id === s.diskId) && !(await exists(join(incoming, `${s.snapshotId}.snap.qcow2`)))) {
        await copyFile(this.snapshotFile(sourceNodeId, s.snapshotId), join(incoming, `${s.snapshotId}.snap.qcow2`));
      }
    }
    let last = m.progress;
    const progress = async (percent: number) => {
      const p = Math.max(last, Math.min(100, Math.floor(percent)));
      if (p === last && p !== 100) return;
      last = p;
      const done = await this.withLock([sourceNodeId], async () => {
        const current = await this.migration(migrationId);
        if (current && current.state !== 'transferring' && TRANSFERRED.includes(current.state)) return true;
        if (!current || current.state !== 'transferring')
          throw new DriverInvalidStateError(`migration ${migrationId} was aborted during the transfer`);
        await writeJson(this.migrationFile(migrationId), { ...current, progress: Math.max(current.progress, p) });
        return false;
      });
      // Another attempt of this call (a retry beside one still running) finished the transfer: this one ends here.
      if (done) throw new TransferFinishedElsewhere();
      report(p);
    };
    try {
      if (m.live && (await this.alive(sourceNodeId, m.vmId))) {
        await this.startMirror(sourceNodeId, sourceNodeId, m.targetNodeId, vm, (diskId) => join(incoming, `${diskId}.qcow2`), progress);
      } else {
        if (!(await this.vmRecord(m.targetNodeId, m.vmId))) await this.killIncoming(m.targetNodeId, m.vmId, true);
        let done = 0;
        const total = vm.disks.length || 1;
        for (const d of vm.disks) {
          const to = join(incoming, `${d.id}.qcow2`);
          if (!(await exists(to))) await copyFile(this.diskFile(sourceNodeId, d.id), to);
          await progress((++done / total) * 100);
        }
        if (!vm.disks.length) await progress(100);
      }
    } catch (err) {
      // Another attempt of this call finished the transfer (and the switch-over may have ended this one's mirror).
      if (
        err instanceof TransferFinishedElsewhere ||
        TRANSFERRED.includes((await this.migration(migrationId))?.state as MigrationInfo['state'])
      )
        return;
      throw err;
    }
    await this.withLock([sourceNodeId], async () => {
      const current = await this.migration(migrationId);
      if (current && TRANSFERRED.includes(current.state)) return;
      if (!current || current.state !== 'transferring')
        throw new DriverInvalidStateError(`migration ${migrationId} was aborted during the transfer`);
      await writeJson(this.migrationFile(migrationId), { ...current, state: 'transferred', progress: 100 });
    });
    if (last < 100) report(100);
  }

  async switchOverVm(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.withLock([sourceNodeId], async () => {
      const m = await this.requireMigrationFrom(migrationId, sourceNodeId);
      if (m.state === 'switched' || m.state === 'completed') return;
      if (m.state !== 'transferred') throw new DriverInvalidStateError(`migration ${migrationId} is ${m.state}; transfer the VM first`);
      const incoming = this.incomingDir(m.targetNodeId, migrationId);
      const vm = await this.vmRecord(sourceNodeId, m.vmId);
      if (!vm) {
        // An earlier attempt moved the VM's files and stopped before it recorded the switch-over.
        if (!(await this.vmRecord(m.targetNodeId, m.vmId)))
          throw new DriverNotFoundError(`VM ${m.vmId} is on neither end of migration ${migrationId}`);
        await writeJson(this.migrationFile(migrationId), { ...m, state: 'switched' });
        return;
      }
      if (m.live && (await this.alive(sourceNodeId, m.vmId))) {
        // A target QEMU that is gone (a failed memory move ends it) is started and mirrored into again.
        if (!(await this.alive(m.targetNodeId, m.vmId))) {
          await this.startMirror(
            sourceNodeId,
            sourceNodeId,
            m.targetNodeId,
            vm,
            (diskId) => join(incoming, `${diskId}.qcow2`),
            async () => undefined,
          );
        }
        await this.finishLiveMove(sourceNodeId, sourceNodeId, m.targetNodeId, vm, migrationId);
      } else if (m.live && !(await this.alive(m.targetNodeId, m.vmId))) {
        // The VM stopped after its disks were mirrored: what it wrote since then is on the source alone.
        await this.killIncoming(m.targetNodeId, m.vmId, true);
        for (const d of vm.disks) await copyFile(this.diskFile(sourceNodeId, d.id), join(incoming, `${d.id}.qcow2`));
      }
      await this.moveVmFiles(vm, sourceNodeId, { node: m.targetNodeId, dir: incoming }, this.heldDir(sourceNodeId, migrationId));
      await writeJson(this.migrationFile(migrationId), { ...m, state: 'switched' });
    });
  }

  async switchBackVm(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.withLock([sourceNodeId], async () => {
      const m = await this.migration(migrationId);
      if (!m) return;
      if (m.sourceNodeId !== sourceNodeId) throw new DriverNotFoundError(`migration ${migrationId} has no source on node ${sourceNodeId}`);
      if (m.state === 'completed')
        throw new DriverInvalidStateError(`migration ${migrationId} has cleaned up its source; the VM can only migrate back`);
      if (m.state !== 'switched') return;
      const target = m.targetNodeId;
      const vm = await this.requireVm(target, m.vmId);
      const back = this.incomingDir(sourceNodeId, migrationId);
      await fs.mkdir(back, { recursive: true });
      for (const s of await this.snapshots(target)) {
        if (vm.disks.some((d) => d.id === s.diskId))
          await copyFile(this.snapshotFile(target, s.snapshotId), join(back, `${s.snapshotId}.snap.qcow2`));
      }
      if (await this.alive(target, m.vmId)) {
        await this.startMirror(
          sourceNodeId,
          target,
          sourceNodeId,
          vm,
          (diskId) => join(back, `${diskId}.qcow2`),
          async () => undefined,
        );
        await this.finishLiveMove(sourceNodeId, target, sourceNodeId, vm, migrationId);
      } else {
        for (const d of vm.disks) await copyFile(this.diskFile(target, d.id), join(back, `${d.id}.qcow2`));
      }
      await this.moveVmFiles(vm, target, { node: sourceNodeId, dir: back }, null);
      await fs.rm(this.heldDir(sourceNodeId, migrationId), { recursive: true, force: true });
      await writeJson(this.migrationFile(migrationId), { ...m, state: 'transferred' });
    });
  }

  async abortMigration(nodeId: string, migrationId: string): Promise<void> {
    const m = await this.migration(migrationId);
    if (!m) return;
    await this.withLock([m.sourceNodeId, m.targetNodeId], async () => {
      const m = await this.migration(migrationId);
      if (!m) return;
      if (m.sourceNodeId !== nodeId && m.targetNodeId !== nodeId)
        throw new DriverNotFoundError(`migration ${migrationId} not found on node ${nodeId}`);
      if (m.state === 'switched' || m.state === 'completed') {
        throw new DriverInvalidStateError(`migration ${migrationId} has switched over; the VM runs on node ${m.targetNodeId}`);
      }
      const vm = await this.vmRecord(m.sourceNodeId, m.vmId);
      if (vm && (await this.alive(m.sourceNodeId, m.vmId))) await this.cancelMirror(nodeId, m.sourceNodeId, vm);
      if (!(await this.vmRecord(m.targetNodeId, m.vmId))) await this.killIncoming(m.targetNodeId, m.vmId, m.targetNodeId !== nodeId);
      await fs.rm(this.incomingDir(m.targetNodeId, migrationId), { recursive: true, force: true });
      await fs.rm(this.incomingDir(m.sourceNodeId, migrationId), { recursive: true, force: true });
      await fs.rm(this.migrationFile(migrationId), { force: true });
    });
  }

  async cleanUpMigrationSource(sourceNodeId: string, migrationId: string): Promise<void> {
    await this.withLock([sourceNodeId], async () => {
      const m = await this.requireMigrationFrom(migrationId, sourceNodeId);
      if (m.state === 'completed') return;
      if (m.state !== 'switched') throw new DriverInvalidStateError(`migration ${migrationId} is ${m.state}; the source is still in use`);
      await fs.rm(this.heldDir(sourceNodeId, migrationId), { recursive: true, force: true });
      await fs.rm(this.incomingDir(m.targetNodeId, migrationId), { recursive: true, force: true });
      await writeJson(this.migrationFile(migrationId), { ...m, state: 'completed' });
    });
  }

  async getMigration(nodeId: string, migrationId: string): Promise<MigrationInfo | null> {
    const m = await this.migration(migrationId);
    return m && (m.sourceNodeId === nodeId || m.targetNodeId === nodeId) ? toMigrationInfo(m) : null;
  }

  // ---- Audit

  async audit(nodeId: string): Promise<NodeAudit> {
    const node = await this.node(nodeId);
    const vms = await Promise.all((await listNames(join(this.nodeDir(nodeId), 'vms'), '.json')).map((id) => this.vmRecord(nodeId, id)));
    const { disks: holders, nics: nicHolders } = await this.attachments(nodeId);
    const diskIds = await listNames(join(this.nodeDir(nodeId), 'disks'), '.qcow2');
    const nics: NicInfo[] = [];
    for (const id of await listNames(join(this.nodeDir(nodeId), 'nics'), '.json')) {
      const nic = await readJson<NicRecord>(this.nicFile(nodeId, id));
      if (nic)
        nics.push({
          nodeId,
          nicId: nic.nicId,
          mac: nic.mac,
          network: nic.network,
          vmId: nicHolders.get(id)?.vmId ?? null,
          position: nicHolders.get(id)?.position ?? null,
        });
    }
    return {
      nodeId,
      capacity: node.capacity,
      used: await this.usedOn(nodeId),
      vms: await Promise.all(vms.filter((v): v is VmRecord => !!v).map((v) => this.vmInfo(nodeId, v))),
      disks: await Promise.all(diskIds.map((id) => this.diskInfo(nodeId, id, holders.get(id)))),
      snapshots: (await this.snapshots(nodeId)).map((s) => toSnapshotInfo(nodeId, s)),
      nics,
      migrations: (await this.migrations())
        .filter((m) => (m.sourceNodeId === nodeId || m.targetNodeId === nodeId) && m.state !== 'completed')
        .sort((a, b) => a.migrationId.localeCompare(b.migrationId))
        .map(toMigrationInfo),
    };
  }

  // ---- Paths

  private nodeDir(nodeId: string): string {
    return join(this.options.root, 'nodes', safe(nodeId));
  }
  private nodeFile(nodeId: string): string {
    return join(this.nodeDir(nodeId), 'node.json');
  }
  private vmFile(nodeId: string, vmId: string): string {
    return join(this.nodeDir(nodeId), 'vms', `${safe(vmId)}.json`);
  }
  private diskFile(nodeId: string, diskId: string): string {
    return join(this.nodeDir(nodeId), 'disks', `${safe(diskId)}.qcow2`);
  }
  private snapshotFile(nodeId: string, snapshotId: string): string {
    return join(this.nodeDir(nodeId), 'snapshots', `${safe(snapshotId)}.qcow2`);
  }
  private snapshotMeta(nodeId: string, snapshotId: string): string {
    return join(this.nodeDir(nodeId), 'snapshots', `${safe(snapshotId)}.json`);
  }
  private nicFile(nodeId: string, nicId: string): string {
    return join(this.nodeDir(nodeId), 'nics', `${safe(nicId)}.json`);
  }
  /**
   * A running VM's QMP socket, pidfile, VNC socket and serial log. Unix socket paths must stay under 108 bytes, so
   * they live in a short directory of their own (socketDir), named by a hash of node and VM.
   */
  private runFile(nodeId: string, vmId: string, ext: string): string {
    return join(this.socketDir, `${qid('', `${nodeId}/${vmId}`)}.${ext}`);
  }
  private heldDir(nodeId: string, migrationId: string): string {
    return join(this.nodeDir(nodeId), 'held', safe(migrationId));
  }
  private incomingDir(nodeId: string, migrationId: string): string {
    return join(this.nodeDir(nodeId), 'incoming', safe(migrationId));
  }
  private migrationFile(migrationId: string): string {
    return join(this.options.root, 'migrations', `${safe(migrationId)}.json`);
  }
  private imageFile(imageId: string): string {
    return join(this.options.root, 'images', `${safe(imageId)}.qcow2`);
  }
  private imageMeta(imageId: string): string {
    return join(this.options.root, 'images', `${safe(imageId)}.json`);
  }
  private isoFile(name: string): string {
    return join(this.options.root, 'isos', safe(name));
  }

  // ---- State

  /** Runs `work` holding the locks of these nodes (taken in one order, so two calls never wait on each other). */
  private async withLock<T>(nodeIds: string[], work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(nodeIds)].sort();
    const previous = keys.map((k) => this.locks.get(k) ?? Promise.resolve());
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const k of keys) this.locks.set(k, mine);
    try {
      await Promise.all(previous.map((p) => p.catch(() => undefined)));
      return await work();
    } finally {
      release();
      for (const k of keys) if (this.locks.get(k) === mine) this.locks.delete(k);
    }
  }

  private async node(nodeId: string): Promise<NodeRecord> {
    const node = await readJson<NodeRecord>(this.nodeFile(nodeId));
    if (!node) throw new DriverNotFoundError(`node ${nodeId} is not served by this hypervisor`);
    return node;
  }

  private async nextSeq(nodeId: string): Promise<number> {
    const node = await this.node(nodeId);
    await writeJson(this.nodeFile(nodeId), { ...node, seq: node.seq + 1 });
    return node.seq + 1;
  }

  private vmRecord(nodeId: string, vmId: string): Promise<VmRecord | null> {
    return readJson<VmRecord>(this.vmFile(nodeId, vmId));
  }

  private async requireVm(nodeId: string, vmId: string): Promise<VmRecord> {
    await this.node(nodeId);
    const vm = await this.vmRecord(nodeId, vmId);
    if (!vm) throw new DriverNotFoundError(`VM ${vmId} not found on node ${nodeId}`);
    return vm;
  }

  private async requireDiskFile(nodeId: string, diskId: string): Promise<string> {
    await this.node(nodeId);
    const path = this.diskFile(nodeId, diskId);
    if (!(await exists(path))) throw new DriverNotFoundError(`disk ${diskId} not found on node ${nodeId}`);
    return path;
  }

  private async nodeIds(): Promise<string[]> {
    return (await fs.readdir(join(this.options.root, 'nodes')).catch(() => [] as string[])).sort();
  }

  /** The node of this machine whose file `fileOf` names exists (ids are unique across nodes), or null. */
  private async nodeHolding(fileOf: (nodeId: string) => string): Promise<string | null> {
    for (const n of await this.nodeIds()) if (await exists(fileOf(n))) return n;
    return null;
  }

  private async nicRecordAnywhere(nicId: string): Promise<{ nodeId: string; nic: NicRecord } | null> {
    const nodeId = await this.nodeHolding((n) => this.nicFile(n, nicId));
    const nic = nodeId ? await readJson<NicRecord>(this.nicFile(nodeId, nicId)) : null;
    return nodeId && nic ? { nodeId, nic } : null;
  }

  /** Which VM holds each disk and interface of the node, at which position (the VM definitions say). */
  private async attachments(
    nodeId: string,
  ): Promise<{ disks: Map<string, { vmId: string; position: number }>; nics: Map<string, { vmId: string; position: number }> }> {
    const disks = new Map<string, { vmId: string; position: number }>();
    const nics = new Map<string, { vmId: string; position: number }>();
    for (const id of await listNames(join(this.nodeDir(nodeId), 'vms'), '.json')) {
      const vm = await this.vmRecord(nodeId, id);
      for (const d of vm?.disks ?? []) disks.set(d.id, { vmId: id, position: d.position });
      for (const n of vm?.nics ?? []) nics.set(n.id, { vmId: id, position: n.position });
    }
    return { disks, nics };
  }

  private async snapshotRecord(nodeId: string, snapshotId: string): Promise<SnapshotRecord | null> {
    return readJson<SnapshotRecord>(this.snapshotMeta(nodeId, snapshotId));
  }

  private async requireSnapshot(nodeId: string, snapshotId: string): Promise<SnapshotRecord> {
    await this.node(nodeId);
    const snap = await this.snapshotRecord(nodeId, snapshotId);
    if (!snap) throw new DriverNotFoundError(`snapshot ${snapshotId} not found on node ${nodeId}`);
    return snap;
  }

  private async snapshots(nodeId: string): Promise<SnapshotRecord[]> {
    const all = await Promise.all(
      (await listNames(join(this.nodeDir(nodeId), 'snapshots'), '.json')).map((id) => this.snapshotRecord(nodeId, id)),
    );
    return all.filter((s): s is SnapshotRecord => !!s).sort((a, b) => a.seq - b.seq);
  }

  private async removeSnapshot(nodeId: string, snapshotId: string): Promise<void> {
    await fs.rm(this.snapshotMeta(nodeId, snapshotId), { force: true });
    await fs.rm(this.snapshotFile(nodeId, snapshotId), { force: true });
  }

  private migration(migrationId: string): Promise<MigrationRecord | null> {
    return readJson<MigrationRecord>(this.migrationFile(migrationId));
  }

  private async migrations(): Promise<MigrationRecord[]> {
    const ids = await listNames(join(this.options.root, 'migrations'), '.json');
    return (await Promise.all(ids.map((id) => this.migration(id)))).filter((m): m is MigrationRecord => !!m);
  }

  private async requireMigrationFrom(migrationId: string, sourceNodeId: string): Promise<MigrationRecord> {
    const m = await this.migration(migrationId);
    if (!m || m.sourceNodeId !== sourceNodeId)
      throw new DriverNotFoundError(`migration ${migrationId} has no source on node ${sourceNodeId}`);
    return m;
  }

  private async usedOn(nodeId: string): Promise<{ memoryMb: number; storageGb: number }> {
    let memoryMb = 0;
    let storageGb = 0;
    for (const id of await listNames(join(this.nodeDir(nodeId), 'vms'), '.json')) {
      const vm = await this.vmRecord(nodeId, id);
      if (vm && (await this.alive(nodeId, id))) memoryMb += vm.memoryMb;
    }
    for (const id of await listNames(join(this.nodeDir(nodeId), 'disks'), '.qcow2'))
      storageGb += await imageSizeGb(this.diskFile(nodeId, id));
    for (const m of await this.migrations()) {
      if (m.targetNodeId === nodeId && RESERVING.includes(m.state)) {
        memoryMb += m.memoryMb;
        storageGb += m.storageGb;
      }
      if (m.sourceNodeId === nodeId && m.state === 'switched') storageGb += m.storageGb;
    }
    return { memoryMb, storageGb };
  }

  private async reserveStorage(nodeId: string, gb: number, what: string): Promise<void> {
    const node = await this.node(nodeId);
    const used = await this.usedOn(nodeId);
    if (used.storageGb + gb > node.capacity.storageGb) {
      throw new DriverCapacityError(
        `node ${nodeId} has ${node.capacity.storageGb - used.storageGb} GB of storage free; ${what} needs ${gb} GB`,
      );
    }
  }

  private async createDisk(
    nodeId: string,
    diskId: string,
    sizeGb: number,
    origin: string,
    produce: (tmp: string) => Promise<void>,
  ): Promise<void> {
    await this.withLock([nodeId], async () => {
      await this.node(nodeId);
      const path = this.diskFile(nodeId, diskId);
      if (await exists(path)) {
        if ((await imageSizeGb(path)) !== sizeGb)
          throw new DriverInvalidStateError(`disk ${diskId} already exists with another definition`);
        return;
      }
      for (const other of await this.nodeIds()) {
        if (other !== nodeId && (await exists(this.diskFile(other, diskId))))
          throw new DriverInvalidStateError(`disk ${diskId} exists on node ${other}`);
      }
      await this.reserveStorage(nodeId, sizeGb, `disk ${diskId} (${origin})`);
      const tmp = `${path}.new`;
      await produce(tmp);
      await fs.rename(tmp, path);
    });
  }

  private async vmInfo(nodeId: string, vm: VmRecord): Promise<VmInfo> {
    const powerState = await this.powerState(nodeId, vm);
    return {
      vmId: vm.vmId,
      nodeId,
      hostname: vm.hostname,
      cpus: vm.cpus,
      memoryMb: vm.memoryMb,
      guestAgent: vm.guestAgent,
      rootPasswordHash: vm.rootPasswordHash ?? null,
      powerState,
      frozen: vm.frozen,
      bootIso: powerState === 'stopped' ? null : vm.bootIso,
      startedAt: powerState === 'stopped' ? null : vm.startedAt,
      disks: [...vm.disks].sort((a, b) => a.position - b.position),
      nics: [...vm.nics].sort((a, b) => a.position - b.position),
    };
  }

  private async diskInfo(nodeId: string, diskId: string, holder?: { vmId: string; position: number }): Promise<DiskInfo> {
    const path = this.diskFile(nodeId, diskId);
    return {
      nodeId,
      diskId,
      sizeGb: await imageSizeGb(path),
      content: await readContent(path),
      vmId: holder?.vmId ?? null,
      position: holder?.position ?? null,
    };
  }

  // ---- QEMU processes

  /** The pid of the VM's QEMU when it runs: its pidfile names a live process started with its QMP socket. */
  private pid(nodeId: string, vmId: string): Promise<number | null> {
    return this.pidOf(this.runFile(nodeId, vmId, 'pid'), this.runFile(nodeId, vmId, 'qmp'));
  }

  private async pidOf(pidFile: string, qmpPath: string): Promise<number | null> {
    let pid: number;
    try {
      pid = Number((await fs.readFile(pidFile, 'utf8')).trim());
    } catch {
      return null;
    }
    try {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) return null;
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(qmpPath) ? pid : null;
    } catch {
      return null;
    }
  }

  private async alive(nodeId: string, vmId: string): Promise<boolean> {
    return (await this.pid(nodeId, vmId)) !== null;
  }

  /**
   * Whether a QEMU of this VM runs, waiting first for one that is on its way up (an attempt cut short mid-start): its
   * processes are found by their command line. It is up once its pidfile names it and the parent that daemonized it
   * (which leaves when QEMU's setup is done) is gone: true; false when there is none.
   */
  private async awaitStartingQemu(nodeId: string, vmId: string): Promise<boolean> {
    const qmpPath = this.runFile(nodeId, vmId, 'qmp');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const pid = await this.pid(nodeId, vmId);
      const found: number[] = [];
      for (const entry of await fs.readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        if (!cmdline.includes(qmpPath)) continue;
        const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => ') Z ');
        if (!/\) [ZX] /.test(stat)) found.push(Number(entry));
      }
      if (pid !== null && found.every((p) => p === pid)) return true;
      if (pid === null && !found.length) return false;
      if (Date.now() > deadline) throw new DriverUnavailableError(`VM ${vmId}: a QEMU of it is starting and has not come up in 30 s`);
      await sleep(50);
    }
  }

  /** Whether the VM's QEMU has each of these files open: the very file (device and inode), not one since removed. */
  private async holdsFiles(nodeId: string, vmId: string, paths: string[]): Promise<boolean> {
    const pid = await this.pid(nodeId, vmId);
    if (pid === null) return false;
    const held = new Set<string>();
    for (const fd of await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
      const st = await fs.stat(`/proc/${pid}/fd/${fd}`).catch(() => null);
      if (st?.isFile()) held.add(`${st.dev}:${st.ino}`);
    }
    for (const path of paths) {
      const st = await fs.stat(path).catch(() => null);
      if (!st || !held.has(`${st.dev}:${st.ino}`)) return false;
    }
    return true;
  }

  private async powerState(nodeId: string, vm: VmRecord): Promise<PowerState> {
    if (!(await this.alive(nodeId, vm.vmId))) return 'stopped';
    return vm.powerdownAt && vm.guestAgent ? 'stopping' : 'running';
  }

  /**
   * The VM's QMP connection (kept while in use); `peer` for the monitor the other end of a migration uses. A socket
   * serves one client at a time: the greeting may wait for another client to let go (30 s).
   */
  private async qmp(nodeId: string, vmId: string, peer = false): Promise<QmpClient> {
    const path = this.runFile(nodeId, vmId, peer ? 'peer.qmp' : 'qmp');
    const cached = this.qmpClients.get(path);
    if (cached) {
      const client = await cached.catch(() => null);
      if (client && !client.isClosed) return client;
      this.qmpClients.delete(path);
    }
    const connecting = QmpClient.connect(path, 30_000).then((client) => {
      client.on('close', () => {
        if (this.qmpClients.get(path) === connecting) this.qmpClients.delete(path);
      });
      return client;
    });
    this.qmpClients.set(path, connecting);
    try {
      return await connecting;
    } catch (err) {
      this.qmpClients.delete(path);
      throw new DriverUnavailableError(`VM ${vmId} on node ${nodeId}: ${(err as Error).message}`);
    }
  }

  /**
   * The VM's monitor for a long exchange (a migration): each command takes the connection anew, as one held across
   * a long wait would have closed as idle.
   */
  private monitor(
    nodeId: string,
    vmId: string,
    peer = false,
  ): { execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> } {
    return { execute: async (command, args) => (await this.qmp(nodeId, vmId, peer)).execute(command, args) };
  }

  /** Starts the VM's QEMU, detached from this process (it outlives an agent restart). */
  private async spawn(nodeId: string, vm: VmRecord, opts: { diskPath?: (diskId: string) => string; incoming?: boolean }): Promise<void> {
    const run = (ext: string) => this.runFile(nodeId, vm.vmId, ext);
    await fs.mkdir(this.socketDir, { recursive: true });
    // The run files an earlier QEMU left stay: QEMU binds over stale sockets itself, and its pidfile's lock is what
    // keeps a VM to one QEMU. Removing the pidfile would let a second QEMU lock a new one beside a first still
    // coming up (see below).
    const args = [
      '-name',
      `guest=${vm.vmId},process=vmops-${vm.vmId}`,
      '-machine',
      `pc,accel=${this.accel}`,
      '-smp',
      String(vm.cpus),
      '-m',
      String(vm.memoryMb),
      '-nodefaults',
      '-display',
      'none',
      '-no-user-config',
      '-qmp',
      `unix:${run('qmp')},server=on,wait=off`,
      // The other end of a migration drives this VM through a monitor of its own (a QMP socket serves one client).
      '-qmp',
      `unix:${run('peer.qmp')},server=on,wait=off`,
      '-pidfile',
      run('pid'),
      '-daemonize',
      '-serial',
      `file:${run('serial')}`,
      '-vnc',
      `unix:${run('vnc')}`,
      '-device',
      'virtio-scsi-pci,id=scsi0',
    ];
    for (const d of vm.disks) {
      args.push('-blockdev', JSON.stringify(diskBlockdev(d.id, opts.diskPath?.(d.id) ?? this.diskFile(nodeId, d.id))));
      args.push('-device', deviceArg(diskDevice(d.id, d.position, !vm.bootIso && d.position === 0 ? 2 : undefined)));
    }
    for (const n of vm.nics) {
      const nic = await readJson<NicRecord>(this.nicFile(nodeId, n.id));
      args.push('-netdev', `user,id=${qid('n', n.id)},restrict=on`);
      args.push('-device', `virtio-net-pci,netdev=${qid('n', n.id)},mac=${nic?.mac ?? '52:54:00:00:00:00'},id=${qid('i', n.id)}`);
    }
    if (vm.bootIso) {
      args.push(
        '-blockdev',
        JSON.stringify({
          driver: 'raw',
          'node-name': 'iso',
          'read-only': true,
          file: { driver: 'file', filename: this.isoFile(vm.bootIso), 'read-only': true },
        }),
      );
      // The tiny guest's kernel (-kernel) holds boot index 0 when it is there.
      args.push('-device', `scsi-cd,bus=scsi0.0,scsi-id=255,drive=iso,bootindex=${vm.guestAgent ? 1 : 0}`);
    }
    // A guest with an agent runs the tiny guest, which powers off when asked; without one nothing answers ACPI.
    if (vm.guestAgent)
      args.push(
        '-kernel',
        this.options.guestKernel,
        '-initrd',
        this.options.guestInitrd,
        '-append',
        'console=ttyS0 quiet panic=-1 mitigations=off nowatchdog nmi_watchdog=0 tsc=reliable',
      );
    if (opts.incoming) args.push('-incoming', 'defer', '-S');
    try {
      await run_(this.qemu, args);
    } catch (err) {
      // An attempt of this call that was cut short while it spawned (its process forked, not yet QEMU, so no command
      // line named the VM when this one looked) started a QEMU that holds the pidfile. QEMU locks its pidfile before
      // it makes a socket or opens a disk, so this one ended without touching either: the first one is the VM's.
      const spawnedElsewhere = /cannot lock pid file/i.test((err as Error).message) && (await this.awaitStartingQemu(nodeId, vm.vmId));
      if (!spawnedElsewhere) throw new DriverUnavailableError(`QEMU did not start VM ${vm.vmId}: ${(err as Error).message}`);
    }
    if (vm.frozen && !opts.incoming) await (await this.qmp(nodeId, vm.vmId)).execute('stop');
  }

  private async pressPowerButton(nodeId: string, vmId: string): Promise<void> {
    const vm = await this.requireVm(nodeId, vmId);
    if (!(await this.alive(nodeId, vmId))) return;
    await (await this.qmp(nodeId, vmId)).execute('system_powerdown').catch((err) => {
      if (!(err instanceof QmpCommandError)) throw err;
    });
    // A frozen guest does not react to the button; one without an agent ignores it.
    if (vm.guestAgent && !vm.frozen && !vm.powerdownAt)
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, powerdownAt: new Date().toISOString() });
  }

  /**
   * A guest still booting does not hear the button: after an ACPI shutdown this process presses it again every
   * powerButtonRepeatMs, for up to two minutes, until the guest is off or started again (best effort: an agent
   * restart ends it; stopVm presses by itself).
   */
  private keepPressing(nodeId: string, vmId: string): void {
    const key = `${nodeId}/${vmId}`;
    if (this.pressing.has(key)) return;
    this.pressing.add(key);
    const until = Date.now() + 120_000;
    void (async () => {
      try {
        while (Date.now() < until) {
          await sleep(this.repeatMs, undefined, { ref: false });
          const vm = await this.vmRecord(nodeId, vmId);
          if (!vm?.powerdownAt || !(await this.alive(nodeId, vmId))) return;
          await this.withLock([nodeId], () => this.pressPowerButton(nodeId, vmId));
        }
      } catch {
        // The VM went away meanwhile: nothing to press.
      } finally {
        this.pressing.delete(key);
      }
    })();
  }

  private async settleStopped(nodeId: string, vmId: string): Promise<void> {
    const vm = await this.vmRecord(nodeId, vmId);
    if (vm && (vm.startedAt || vm.powerdownAt || vm.bootIso))
      await writeJson(this.vmFile(nodeId, vmId), { ...vm, startedAt: null, bootIso: null, powerdownAt: null });
    for (const ext of ['qmp', 'peer.qmp', 'pid', 'vnc']) await fs.rm(this.runFile(nodeId, vmId, ext), { force: true });
  }

  /** Pulls the plug: `quit` over QMP, SIGKILL if QEMU is still there after 5 s. */
  private async kill(nodeId: string, vmId: string, peer = false): Promise<void> {
    // A QEMU an attempt cut short was starting (no pidfile yet) is waited for, then ended like any other.
    if (!(await this.awaitStartingQemu(nodeId, vmId))) return;
    const pid = await this.pid(nodeId, vmId);
    if (!pid) return;
    await this.qmp(nodeId, vmId, peer)
      .then((q) => q.execute('quit', undefined, 5000))
      .catch(() => undefined);
    const deadline = Date.now() + 5000;
    while (await this.alive(nodeId, vmId)) {
      if (Date.now() > deadline) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await sleep(20);
    }
  }

  private async killIncoming(nodeId: string, vmId: string, peer: boolean): Promise<void> {
    await this.kill(nodeId, vmId, peer);
    for (const ext of ['qmp', 'peer.qmp', 'pid', 'vnc']) await fs.rm(this.runFile(nodeId, vmId, ext), { force: true });
  }

  private async setFrozen(nodeId: string, vmId: string, frozen: boolean): Promise<void> {
    await this.withLock([nodeId], async () => {
      const vm = await this.requireVm(nodeId, vmId);
      if (await this.alive(nodeId, vmId)) await (await this.qmp(nodeId, vmId)).execute(frozen ? 'stop' : 'cont');
      if (vm.frozen !== frozen) await writeJson(this.vmFile(nodeId, vmId), { ...vm, frozen });
    });
  }

  private async hasDevice(q: QmpClient, id: string): Promise<boolean> {
    const list = await q.execute<{ name: string }[]>('qom-list', { path: '/machine/peripheral' });
    return list.some((p) => p.name === id);
  }

  /** device_del, then waits for the device to go (DEVICE_DELETED); a guest that keeps it fails the call. */
  private async unplug(q: QmpClient, id: string, what: string): Promise<void> {
    if (!(await this.hasDevice(q, id))) return;
    const deleted = q.waitForEvent('DEVICE_DELETED', (e) => e.data?.device === id, 10_000);
    deleted.catch(() => undefined);
    await q.execute('device_del', { id }).catch((err) => {
      if (!(err instanceof QmpCommandError)) throw err;
    });
    try {
      await deleted;
    } catch {
      if (await this.hasDevice(q, id)) throw new DriverUnavailableError(`the guest has not released ${what} yet`);
    }
  }

  /**
   * Copies a disk as it is now into `target` (a snapshot or an image): offline with qemu-img, or, while its VM
   * runs, with a `blockdev-backup` job (point in time: its start). `fsfreeze` pauses the guest until the job
   * has started; without it, a running VM's copy is refused when `refuseLiveWithout` names why.
   */
  private async pointInTimeCopy(
    nodeId: string,
    diskId: string,
    path: string,
    target: string,
    fsfreeze: boolean,
    refuseLiveWithout: string | null,
  ): Promise<void> {
    const holder = (await this.attachments(nodeId)).disks.get(diskId);
    const vm = holder ? await this.vmRecord(nodeId, holder.vmId) : null;
    if (!vm || !(await this.alive(nodeId, vm.vmId))) {
      await copyImage(path, target);
      return;
    }
    if (refuseLiveWithout && !fsfreeze)
      throw new DriverInvalidStateError(`VM ${vm.vmId} is running: stop it, or freeze its filesystems, to ${refuseLiveWithout}`);
    if (fsfreeze && !vm.guestAgent)
      throw new DriverInvalidStateError(`VM ${vm.vmId} runs without a guest agent: its filesystems cannot be frozen`);
    const q = await this.qmp(nodeId, vm.vmId);
    const tmp = `${target}.tmp`;
    const node = qid('b', target);
    const job = qid('j', target);
    // What an attempt that was cut short left in QEMU (its job goes on without it) is dropped; the copy starts over.
    if ((await q.execute<QmpBlockJob[]>('query-block-jobs')).some((j) => j.device === job)) {
      await q.execute('block-job-cancel', { device: job, force: true }).catch(() => undefined);
      for (let i = 0; (await q.execute<QmpBlockJob[]>('query-block-jobs')).some((j) => j.device === job); i++) {
        if (i > 1500) throw new DriverUnavailableError(`the copy job ${job} of disk ${diskId} did not end`);
        await sleep(20);
      }
    }
    await q.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
    await fs.rm(tmp, { force: true });
    await createImage(tmp, await imageSizeGb(path));
    await q.execute('blockdev-add', { driver: 'qcow2', 'node-name': node, file: { driver: 'file', filename: tmp } });
    const paused = fsfreeze && !vm.frozen;
    try {
      const completed = q.waitForEvent('BLOCK_JOB_COMPLETED', (e) => e.data?.device === job, 600_000);
      completed.catch(() => undefined);
      if (paused) await q.execute('stop');
      try {
        await q.execute('blockdev-backup', { 'job-id': job, device: qid('d', diskId), target: node, sync: 'full' });
      } finally {
        if (paused) await q.execute('cont');
      }
      const event = await completed;
      if (event.data?.error) throw new DriverUnavailableError(`copying disk ${diskId}: ${event.data.error}`);
    } finally {
      await q.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
    }
    await fs.rename(tmp, target);
  }

  /**
   * Live storage migration, first half: the target's QEMU waits for the memory (`-incoming defer`) and serves
   * fresh disks over NBD; the source mirrors each disk into them. Returns once every mirror is in sync (READY);
   * the mirrors then follow every guest write until finishLiveMove. Safe to run again: it reuses what exists.
   */
  private async startMirror(
    caller: string,
    fromNode: string,
    toNode: string,
    vm: VmRecord,
    destPath: (diskId: string) => string,
    progress: (percent: number) => Promise<void>,
  ): Promise<void> {
    const nbd = this.runFile(toNode, vm.vmId, 'nbd');
    const source = this.monitor(fromNode, vm.vmId, fromNode !== caller);
    // Two attempts of one call in this agent (a retry beside a first attempt still running) set up one target, one
    // mirror per disk: the setup is serialized per VM.
    await this.withLock([`mirror-setup:${toNode}/${vm.vmId}`], async () => {
      // The target's QEMU an earlier attempt started may still be on its way up: spawning a second one would remove its
      // sockets and fight it for the disks' locks.
      if (!(await this.awaitStartingQemu(toNode, vm.vmId))) {
        for (const d of vm.disks) {
          // A target image an earlier attempt made is kept, never replaced: a QEMU that attempt forked may still be
          // opening it (see spawn), and the mirror's full sync overwrites all of it. A new one is made beside its
          // name and renamed into place, so a qemu-img a dead attempt left running never writes the name itself.
          if (await exists(destPath(d.id))) continue;
          const tmp = tempPath(destPath(d.id));
          await createImage(tmp, await imageSizeGb(this.diskFile(fromNode, d.id)));
          await fs.rename(tmp, destPath(d.id));
        }
        await this.spawn(toNode, vm, { diskPath: destPath, incoming: true });
      }
      // What the switch-over moves into place is the files under these names: the target QEMU must be writing them.
      const images = vm.disks.map((d) => destPath(d.id));
      if (!(await this.holdsFiles(toNode, vm.vmId, images))) {
        await this.cancelMirror(caller, fromNode, vm);
        await this.killIncoming(toNode, vm.vmId, toNode !== caller);
        throw new DriverUnavailableError(
          `the target QEMU of VM ${vm.vmId} on node ${toNode} was not writing the disk images the switch-over moves; it was stopped, and the next attempt starts it again`,
        );
      }
      const target = this.monitor(toNode, vm.vmId, toNode !== caller);
      await target.execute('nbd-server-start', { addr: { type: 'unix', data: { path: nbd } } }).catch((err) => {
        if (!(err instanceof QmpCommandError && /already/i.test(err.message))) throw err;
      });
      const exports = (await target.execute<{ id: string }[]>('query-block-exports')).map((e) => e.id);
      for (const d of vm.disks) {
        if (!exports.includes(qid('x', d.id))) {
          await target.execute('block-export-add', {
            type: 'nbd',
            id: qid('x', d.id),
            'node-name': qid('d', d.id),
            name: qid('d', d.id),
            writable: true,
          });
        }
      }
      const jobs = (await source.execute<QmpBlockJob[]>('query-block-jobs')).map((j) => j.device);
      const nodes = (await source.execute<QmpBlockNode[]>('query-named-block-nodes', { flat: true })).map((n) => n['node-name']);
      for (const d of vm.disks) {
        if (jobs.includes(qid('m', d.id))) continue;
        if (!nodes.includes(qid('t', d.id))) {
          await source.execute('blockdev-add', {
            driver: 'nbd',
            'node-name': qid('t', d.id),
            server: { type: 'unix', path: nbd },
            export: qid('d', d.id),
          });
        }
        await source.execute('blockdev-mirror', { 'job-id': qid('m', d.id), device: qid('d', d.id), target: qid('t', d.id), sync: 'full' });
      }
    });
    for (;;) {
      const mirrors = (await source.execute<QmpBlockJob[]>('query-block-jobs')).filter((j) =>
        vm.disks.some((d) => qid('m', d.id) === j.device),
      );
      if (mirrors.length !== vm.disks.length)
        throw new DriverUnavailableError(`a disk mirror of VM ${vm.vmId} stopped before it was in sync`);
      const len = mirrors.reduce((n, j) => n + j.len, 0);
      const offset = mirrors.reduce((n, j) => n + j.offset, 0);
      if (mirrors.every((j) => j.ready)) break;
      await progress(len ? Math.min(99, (offset / len) * 100) : 0);
      await sleep(100);
    }
    await progress(100);
  }

  /**
   * Live migration, second half: the memory moves (`migrate`), the mirrors complete, the target runs and the
   * source QEMU quits. A failure before `migrate` completes leaves the VM running on the source, as QEMU does.
   */
  private async finishLiveMove(caller: string, fromNode: string, toNode: string, vm: VmRecord, migrationId: string): Promise<void> {
    const uri = `unix:${this.runFile(toNode, vm.vmId, 'mig')}`;
    const source = this.monitor(fromNode, vm.vmId, fromNode !== caller);
    const target = this.monitor(toNode, vm.vmId, toNode !== caller);
    // The source's run state tells whose migration query-migrate reports: a QEMU that once received this VM keeps
    // saying 'completed' about that incoming one. Its own outgoing migration is done once it is 'postmigrate'.
    // The migration first, then the run state: a migration an earlier attempt started that ends between the two
    // reads is seen underway, not as a VM still running with no migration.
    const outgoing = async () => {
      const info = await source.execute<QmpMigrationInfo>('query-migrate');
      return { info, run: (await source.execute<{ status: string }>('query-status')).status };
    };
    let { run, info } = await outgoing();
    const underway = ['setup', 'active', 'pre-switchover', 'device', 'wait-unplug'].includes(info.status ?? '');
    if (run !== 'postmigrate' && !underway) {
      await target.execute('migrate-incoming', { uri }).catch((err) => {
        if (!(err instanceof QmpCommandError && /already|incoming/i.test(err.message))) throw err;
      });
      // A migration an earlier attempt sent (a command QEMU read after that agent died) may still have begun, or
      // ended, since: QEMU then refuses this one, and the loop below follows that one.
      await source.execute('migrate', { uri }).catch((err) => {
        if (!(err instanceof QmpCommandError && /in progress|previous migration/i.test(err.message))) throw err;
      });
    }
    for (;;) {
      ({ run, info } = await outgoing());
      if (run === 'postmigrate' && info.status === 'completed') break;
      if (info.status === 'failed' || info.status === 'cancelled') {
        throw new DriverUnavailableError(
          `migration ${migrationId} of VM ${vm.vmId}: ${info['error-desc'] ?? info.status}; the VM runs on node ${fromNode}`,
        );
      }
      await sleep(20);
    }
    await this.cancelMirror(caller, fromNode, vm, false);
    for (const d of vm.disks) await target.execute('block-export-del', { id: qid('x', d.id) }).catch(() => undefined);
    await target.execute('nbd-server-stop').catch(() => undefined);
    if (!vm.frozen) await target.execute('cont');
    await this.kill(fromNode, vm.vmId, fromNode !== caller);
  }

  /**
   * Ends the source's mirror jobs and their NBD clients: after the memory moved, each completes its last sync
   * (the target then holds every write); on an abort (`force`) they are dropped.
   */
  private async cancelMirror(caller: string, nodeId: string, vm: VmRecord, force = true): Promise<void> {
    const q = this.monitor(nodeId, vm.vmId, nodeId !== caller);
    for (const d of vm.disks) {
      const job = qid('m', d.id);
      if ((await q.execute<QmpBlockJob[]>('query-block-jobs')).some((j) => j.device === job)) {
        await q.execute('block-job-cancel', { device: job, force }).catch(() => undefined);
        for (let i = 0; (await q.execute<QmpBlockJob[]>('query-block-jobs')).some((j) => j.device === job); i++) {
          if (i > 1500) throw new DriverUnavailableError(`the disk mirror ${job} of VM ${vm.vmId} did not end`);
          await sleep(20);
        }
      }
      await q.execute('blockdev-del', { 'node-name': qid('t', d.id) }).catch(() => undefined);
    }
  }

  /**
   * Moves the VM's definition, disks, snapshots and interfaces from one node to the other: the disks and
   * snapshots come from `to.dir` (what the transfer copied); what the source held goes to `keep` (its stopped
   * copy until the clean-up) or is removed.
   */
  private async moveVmFiles(vm: VmRecord, src: string, to: { node: string; dir: string }, keep: string | null): Promise<void> {
    const dst = to.node;
    if (keep) await fs.mkdir(keep, { recursive: true });
    const put = async (path: string, name: string) => {
      if (!(await exists(path))) return;
      if (keep) await fs.rename(path, join(keep, name));
      else await fs.rm(path, { force: true });
    };
    for (const d of vm.disks) {
      const incoming = join(to.dir, `${d.id}.qcow2`);
      if (await exists(incoming)) await fs.rename(incoming, this.diskFile(dst, d.id));
      await put(this.diskFile(src, d.id), `${d.id}.qcow2`);
    }
    for (const s of await this.snapshots(src)) {
      if (!vm.disks.some((d) => d.id === s.diskId)) continue;
      const incoming = join(to.dir, `${s.snapshotId}.snap.qcow2`);
      if (await exists(incoming)) await fs.rename(incoming, this.snapshotFile(dst, s.snapshotId));
      await writeJson(this.snapshotMeta(dst, s.snapshotId), { ...s, seq: await this.nextSeq(dst) });
      await put(this.snapshotFile(src, s.snapshotId), `${s.snapshotId}.snap.qcow2`);
      await put(this.snapshotMeta(src, s.snapshotId), `${s.snapshotId}.snap.json`);
    }
    for (const n of vm.nics) {
      const nic = await readJson<NicRecord>(this.nicFile(src, n.id));
      if (nic) await writeJson(this.nicFile(dst, n.id), nic);
      await put(this.nicFile(src, n.id), `${n.id}.nic.json`);
    }
    const current = (await this.vmRecord(src, vm.vmId)) ?? vm;
    await writeJson(this.vmFile(dst, vm.vmId), { ...current, powerdownAt: null });
    await put(this.vmFile(src, vm.vmId), `${vm.vmId}.vm.json`);
    await fs.rm(to.dir, { recursive: true, force: true });
  }
}

const run_ = run;

function safe(id: string): string {
  if (!/^[A-Za-z0-9._:-]+$/.test(id) || id.startsWith('.'))
    throw new DriverInvalidStateError(`"${id}" is not a valid id for this hypervisor`);
  return id;
}

function diskBlockdev(diskId: string, path: string): Record<string, unknown> {
  return { driver: 'qcow2', 'node-name': qid('d', diskId), file: { driver: 'file', filename: path } };
}

function diskDevice(diskId: string, position: number, bootindex?: number): Record<string, unknown> {
  return {
    driver: 'scsi-hd',
    bus: 'scsi0.0',
    'scsi-id': position,
    lun: 0,
    drive: qid('d', diskId),
    id: qid('v', diskId),
    ...(bootindex !== undefined ? { bootindex } : {}),
  };
}

function deviceArg(device: Record<string, unknown>): string {
  const { driver, ...rest } = device;
  return [driver, ...Object.entries(rest).map(([k, v]) => `${k}=${v}`)].join(',');
}

/** The states of a migration whose transfer is done. */
const TRANSFERRED: readonly MigrationInfo['state'][] = ['transferred', 'switched', 'completed'];

/** Ends an attempt of transferVm whose transfer another attempt finished meanwhile. */
class TransferFinishedElsewhere extends Error {}

async function copyFile(from: string, to: string): Promise<void> {
  const tmp = tempPath(to);
  await fs.copyFile(from, tmp);
  await fs.rename(tmp, to);
}

function toSnapshotInfo(nodeId: string, { seq: _seq, ...snapshot }: SnapshotRecord): SnapshotInfo {
  return { nodeId, ...snapshot };
}

function toMigrationInfo(m: MigrationInfo): MigrationInfo {
  return {
    migrationId: m.migrationId,
    vmId: m.vmId,
    sourceNodeId: m.sourceNodeId,
    targetNodeId: m.targetNodeId,
    state: m.state,
    progress: m.progress,
    bytesTotal: m.bytesTotal,
  };
}
