import { OPERATIONS, type OperationEntry } from '@vmops/catalogue';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@vmops/config';
import { APP_CONFIG } from '../config.token';
import { allocateAddress } from '../interfaces/address-pool';
import { InjectRepository } from '@nestjs/typeorm';
import { defaultStopTimeoutFor, type CloneVmInput, type CreateVmInput, type NicSpec, type VmPowerInput } from '@vmops/contracts';
import { macFromId, type GroupNeighbour, type VmStatus } from '@vmops/domain';
import {
  DiskEntity,
  entityOfRow,
  findVmWithParts,
  groupNeighbours,
  lockAntiAffinityGroups,
  NetworkInterfaceEntity,
  TemplateEntity,
  VM_PARTS,
  VmEntity,
  type VmPartsRow,
} from '@vmops/persistence';
import { randomBytes, randomUUID, scryptSync } from 'node:crypto';
import type { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, isUniqueViolation, notFound } from '../common/api-error';
import { CURSOR_PATTERNS, decodeCursor, encodeCursor, withCursorChecked, type KeysetPage } from '../common/keyset';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, type LockedVm } from '../operations/vm-lock.service';
import type { CreateVmDto } from './create-vm.dto';
import type { CloneVmDto } from './lifecycle.dto';
import type { ListVmsQuery, VmFilter } from './list-vms.query';
import { NodeReader } from '../nodes/node-reader.service';
import { placeVm } from './placement';
import { lockTemplateForUse } from '../templates/template-use';
import { toVmView, type VmView } from './vm.view';

/** The orders of the VM list: their column, its SQL type (the cursor's key is cast back to it) and the key's shape. */
const VM_ORDER_KEYS = {
  hostname: { column: 'hostname', type: 'text', shape: CURSOR_PATTERNS.text },
  created: { column: 'created_at', type: 'timestamptz', shape: CURSOR_PATTERNS.timestamp },
  status: { column: 'status', type: 'text', shape: CURSOR_PATTERNS.text },
  memory: { column: 'memory_mb', type: 'integer', shape: CURSOR_PATTERNS.integer },
  cpus: { column: 'cpus', type: 'integer', shape: CURSOR_PATTERNS.integer },
} as const;

export interface LiveStatusView {
  vmId: string;
  hostname: string;
  node: { id: string; name: string };
  inventoryStatus: string;
  /** Null when the node has no such VM. */
  live: { powerState: string; frozen: boolean; cpus: number; memoryMb: number; bootIso: string | null; startedAt: string | null } | null;
  /** The inventory and the node agree on the power state, the frozen flag, the size and where each disk is attached. */
  inSync: boolean;
  /** Where they disagree, in words (empty when in sync). */
  differences: string[];
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'reset' | 'freeze' | 'unfreeze';

/** What the caller may pass to a power action (each reads its own options). */
export interface PowerOptions {
  bootIso?: string;
  timeoutSeconds?: number;
  force?: boolean;
}

/** A row of `vms` with VM_PARTS. */
type VmRow = VmPartsRow<DiskEntity, NetworkInterfaceEntity>;

interface PowerSpec {
  operation: OperationEntry<VmPowerInput>;
  requires: VmStatus;
  /** freeze: only an unfrozen VM; unfreeze: only a frozen one; start: refuses a frozen one. */
  frozen?: boolean;
}

const POWER: Record<PowerAction, PowerSpec> = {
  start: { operation: OPERATIONS['vm.start'], requires: 'stopped', frozen: false },
  stop: { operation: OPERATIONS['vm.stop'], requires: 'running' },
  shutdown: { operation: OPERATIONS['vm.shutdown'], requires: 'running' },
  reboot: { operation: OPERATIONS['vm.reboot'], requires: 'running' },
  reset: { operation: OPERATIONS['vm.hard_reset'], requires: 'running' },
  freeze: { operation: OPERATIONS['vm.freeze'], requires: 'stopped', frozen: false },
  unfreeze: {
    operation: OPERATIONS['vm.unfreeze'],
    requires: 'stopped',
    frozen: true,
  },
};

/** The graceful stop timeout when the caller gives none (Erigones: 180 s, 300 s for Windows). */
export function defaultStopTimeout(vm: Pick<LockedVm, 'osFamily'>): number {
  return defaultStopTimeoutFor(vm.osFamily);
}

/** 423 unless the VM is in the state the action starts from. */
export function assertPowerState(
  vm: Pick<LockedVm, 'hostname' | 'status' | 'frozen'>,
  action: string,
  requires: VmStatus,
  frozen?: boolean,
): void {
  if (vm.status !== requires) {
    throw new ApiError('VM_INVALID_STATE', `${vm.hostname} is ${vm.status}; it must be ${requires} to ${action}`, {
      status: vm.status,
      required: requires,
    });
  }
  if (frozen !== undefined && vm.frozen !== frozen) {
    throw vm.frozen
      ? new ApiError('VM_FROZEN', `${vm.hostname} is frozen; unfreeze it first`, { frozen: true })
      : new ApiError('VM_NOT_FROZEN', `${vm.hostname} is not frozen`, { frozen: false });
  }
}

@Injectable()
export class VmsService {
  constructor(
    @InjectRepository(VmEntity) private readonly vms: Repository<VmEntity>,
    @InjectRepository(DiskEntity) private readonly disks: Repository<DiskEntity>,
    @InjectRepository(TemplateEntity) private readonly templates: Repository<TemplateEntity>,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
    private readonly nodes: NodeReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A page of the tenant's VMs, with their disks and interfaces, from an index per order and filter (see the
   * read-index migration). The hostname (unique in a tenant) breaks ties.
   */
  async list(principal: Principal, query: ListVmsQuery): Promise<KeysetPage<VmView>> {
    const descending = query.orderBy.startsWith('-');
    const field = descending ? query.orderBy.slice(1) : query.orderBy;
    const { column, type, shape } = VM_ORDER_KEYS[field as keyof typeof VM_ORDER_KEYS];
    const cursor = decodeCursor(query, query.orderBy, { key: shape, tie: CURSOR_PATTERNS.text });
    const { sql: where, params } = this.filterSql(principal, query);
    const page = [...params];
    let after = '';
    if (cursor) {
      page.push(cursor.key, cursor.tie);
      after = ` AND (${column}, hostname) ${descending ? '<' : '>'} ($${page.length - 1}::${type}, $${page.length})`;
    }
    const direction = descending ? 'DESC' : 'ASC';
    // A hostname search of three characters or more finds its few matches through the trigram index first, then
    // orders them (OFFSET 0 keeps the planner from walking the ordered index instead, match by match).
    const source = (query.hostname?.length ?? 0) >= 3 ? `(SELECT * FROM vms WHERE ${where} OFFSET 0)` : 'vms';
    const order = `${column} ${direction}, hostname ${direction}`;
    // One statement. A first page, or one after a cursor, reads its VMs straight from the index of its order and
    // filter. A page at an offset reads the skipped VMs' keys only, from that index, then the page's VMs by id.
    const pageSql =
      query.offset === 0
        ? `SELECT ${column}::text AS key, v.*, ${VM_PARTS} FROM ${source} v WHERE ${where}${after} ORDER BY ${order} LIMIT ${query.limit + 1}`
        : `WITH page AS (
             SELECT id, ${column} AS sort_key, ${column}::text AS key, hostname FROM ${source} vms WHERE ${where}${after}
              ORDER BY ${order} LIMIT ${query.limit + 1} OFFSET ${query.offset})
           SELECT page.key, v.*, ${VM_PARTS}
             FROM page JOIN vms v ON v.id = page.id
            ORDER BY page.sort_key ${direction}, page.hostname ${direction}`;
    const [rows, total] = await withCursorChecked(cursor, () =>
      Promise.all([
        this.vms.manager.query(pageSql, page) as Promise<(VmRow & { key: string; hostname: string })[]>,
        query.total ? this.countWhere(where, params) : Promise.resolve(undefined),
      ]),
    );
    const pageRows = rows.slice(0, query.limit);
    const items = pageRows.map((row) => this.viewOfRow(row));
    if (query.live) await this.addLiveStatus(items);
    const last = pageRows[pageRows.length - 1];
    return {
      items,
      limit: query.limit,
      offset: query.offset,
      nextCursor: rows.length > query.limit && last ? encodeCursor(query.orderBy, last.key, last.hostname) : null,
      ...(total === undefined ? {} : { total }),
    };
  }

  async count(principal: Principal, filter: VmFilter): Promise<{ count: number }> {
    const { sql, params } = this.filterSql(principal, filter);
    return { count: await this.countWhere(sql, params) };
  }

  private async countWhere(where: string, params: unknown[]): Promise<number> {
    const [{ count }] = await this.vms.manager.query(`SELECT count(*)::int AS count FROM vms WHERE ${where}`, params);
    return count;
  }

  /** The filters of the VM lists, as SQL on `vms` and its parameters. */
  private filterSql(principal: Principal, f: VmFilter): { sql: string; params: unknown[] } {
    const params: unknown[] = [principal.tenantId];
    const clauses = ['tenant_id = $1'];
    const add = (clause: (n: number) => string, value: unknown) => {
      params.push(value);
      clauses.push(clause(params.length));
    };
    if (f.status) add((n) => `status = $${n}`, f.status);
    if (f.nodeId) add((n) => `node_id = $${n}`, f.nodeId);
    if (f.label) add((n) => `label = $${n}`, f.label);
    if (f.hostname) add((n) => `hostname ILIKE $${n}`, `%${f.hostname.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    return { sql: clauses.join(' AND '), params };
  }

  /**
   * The VM as its node has it now (Erigones GET status/current), next to what the inventory says. With
   * `writeBack` (PUT), an idle VM's recorded status follows the node; a busy one answers 409.
   */
  async liveStatus(principal: Principal, id: string, writeBack: boolean): Promise<LiveStatusView> {
    const vm = await this.vms.findOneBy({ id, tenantId: principal.tenantId });
    if (!vm) throw notFound('VM', id);
    const [node] = await this.vms.manager.query(`SELECT id, name FROM nodes WHERE id = $1`, [vm.nodeId]);
    const live = await this.nodes.read(node, {
      activity: 'getVm',
      args: { nodeId: vm.nodeId, vmId: id },
      summary: `Read ${vm.hostname} on ${node.name}`,
    });
    const observed = live ? (live.powerState === 'stopped' ? 'stopped' : 'running') : null;
    let recorded: string = vm.status;
    if (writeBack && observed && observed !== vm.status) {
      const [rows] = await this.vms.manager.query(
        `UPDATE vms SET status = $2, updated_at = now() WHERE id = $1 AND current_operation_id IS NULL AND status IN ('running', 'stopped', 'error') RETURNING status`,
        [id, observed],
      );
      if (!rows.length) await this.locks.assertIdle(principal.tenantId, id);
      recorded = rows[0]?.status ?? recorded;
    }
    if (writeBack && !live) {
      throw new ApiError('VM_NOT_ON_NODE', `node ${node.name} has no VM ${vm.hostname}; an operator should look at it (admin reset)`, {
        nodeId: node.id,
      });
    }
    const differences: string[] = [];
    if (!live) differences.push(`node ${node.name} has no such VM`);
    else {
      if (observed !== recorded) differences.push(`the inventory says ${recorded}, the node ${live.powerState}`);
      if (live.frozen !== vm.frozen)
        differences.push(`the inventory says ${vm.frozen ? '' : 'not '}frozen, the node ${live.frozen ? '' : 'not '}frozen`);
      if (live.cpus !== vm.cpus || live.memoryMb !== vm.memoryMb) {
        differences.push(`the inventory says ${vm.cpus} vCPU / ${vm.memoryMb} MB, the node ${live.cpus} vCPU / ${live.memoryMb} MB`);
      }
      const recordedDisks = await this.disks.findBy({ vmId: id });
      for (const d of recordedDisks) {
        const onNode = live.disks.find((a) => a.id === d.id)?.position ?? null;
        if (onNode !== d.position) differences.push(`disk ${d.id}: the inventory says ${where(d.position)}, the node ${where(onNode)}`);
      }
      for (const a of live.disks.filter((a) => !recordedDisks.some((d) => d.id === a.id))) {
        differences.push(`disk ${a.id}: attached at position ${a.position} on the node, not the VM's in the inventory`);
      }
    }
    return {
      vmId: id,
      hostname: vm.hostname,
      node: { id: node.id, name: node.name },
      inventoryStatus: recorded,
      live: live && {
        powerState: live.powerState,
        frozen: live.frozen,
        cpus: live.cpus,
        memoryMb: live.memoryMb,
        bootIso: live.bootIso,
        startedAt: live.startedAt,
      },
      inSync: differences.length === 0,
      differences,
    };
  }

  /** One VM with its disks and interfaces, in one statement. */
  async get(principal: Principal, id: string): Promise<VmView> {
    const row = await findVmWithParts<DiskEntity, NetworkInterfaceEntity>(this.vms.manager, principal.tenantId, id);
    if (!row) throw notFound('VM', id);
    return this.viewOfRow(row);
  }

  private viewOfRow(row: VmRow): VmView {
    return toVmView(entityOfRow(this.vms.manager.connection, VmEntity, row), row.disk_list, row.nic_list);
  }

  /** ?live=true: one audit per node the page touches, read through the nodes' agents. */
  private async addLiveStatus(items: VmView[]): Promise<void> {
    const nodeIds = [...new Set(items.map((v) => v.nodeId))];
    const nodes: { id: string; name: string }[] = nodeIds.length
      ? await this.vms.manager.query(`SELECT id, name FROM nodes WHERE id = ANY($1::uuid[])`, [nodeIds])
      : [];
    const live = new Map<string, VmView['live']>();
    await Promise.all(
      nodes.map(async (node) => {
        try {
          const audit = await this.nodes.read(node, {
            activity: 'auditNode',
            args: { nodeId: node.id },
            summary: `Live status of the VMs on ${node.name}`,
          });
          for (const vm of items.filter((v) => v.nodeId === node.id)) {
            const found = audit.vms.find((a) => a.vmId === vm.id);
            live.set(vm.id, found ? { powerState: found.powerState, frozen: found.frozen } : { powerState: 'absent', frozen: false });
          }
        } catch (err) {
          const code = err instanceof ApiError ? err.code : 'NODE_READ_FAILED';
          for (const vm of items.filter((v) => v.nodeId === node.id)) live.set(vm.id, { error: code });
        }
      }),
    );
    for (const vm of items) vm.live = live.get(vm.id) ?? null;
  }

  async create(principal: Principal, dto: CreateVmDto, options: MutationOptions): Promise<LaunchResult> {
    const template = await this.templates.findOneBy({ id: dto.templateId });
    if (!template || (template.tenantId && template.tenantId !== principal.tenantId))
      throw invalidParameter('templateId', `template ${dto.templateId} does not exist`);
    const diskSizeGb = dto.diskSizeGb ?? template.diskSizeGb;
    if (diskSizeGb < template.diskSizeGb) {
      throw new ApiError('VALIDATION_FAILED', `diskSizeGb must be at least ${template.diskSizeGb}, the size of template ${template.name}`, {
        fields: [{ field: 'diskSizeGb', problems: [`must be at least ${template.diskSizeGb}`] }],
      });
    }
    const start = dto.start ?? true;
    const dataDiskSizes = (dto.dataDisks ?? []).map((d) => d.sizeGb);
    const network = dto.network ?? 'public';
    const groupIds = [...new Set(dto.antiAffinityGroupIds ?? [])].sort();
    // Only a salted hash goes on: into the workflow input (history) and to the node. The password itself is dropped here.
    const rootPasswordHash = dto.rootPassword ? hashRootPassword(dto.rootPassword) : undefined;

    return this.operations.launch<CreateVmInput>(
      {
        principal,
        operation: OPERATIONS['vm.create'],
        request: {
          hostname: dto.hostname,
          templateId: dto.templateId,
          cpus: dto.cpus,
          memoryMb: dto.memoryMb,
          diskSizeGb,
          label: dto.label ?? null,
          note: dto.note ?? null,
          nodeId: dto.nodeId ?? null,
          start,
          dataDisks: dataDiskSizes,
          network,
          rootPassword: dto.rootPassword ? 'set' : null,
          antiAffinityGroupIds: groupIds,
        },
        prepare: async (tx, operationId) => {
          await lockTemplateForUse(tx, principal.tenantId, template.id);
          const systemDiskId = randomUUID();
          const dataDisks = dataDiskSizes.map((sizeGb, i) => ({ diskId: randomUUID(), sizeGb, position: i + 1 }));
          const { vmId, node, nic } = await this.recordNewVm(tx, principal, operationId, {
            hostname: dto.hostname,
            label: dto.label ?? null,
            note: dto.note ?? null,
            cpus: dto.cpus,
            memoryMb: dto.memoryMb,
            templateId: template.id,
            disks: [
              { diskId: systemDiskId, sizeGb: diskSizeGb, position: 0, templateId: template.id },
              ...dataDisks.map((d) => ({ ...d, templateId: null })),
            ],
            network,
            nodeId: dto.nodeId,
            groupIds,
          });
          return {
            vm: { id: vmId, hostname: dto.hostname, nodeId: node.id },
            input: {
              operationId,
              tenantId: principal.tenantId,
              vmId,
              hostname: dto.hostname,
              nodeId: node.id,
              templateId: template.id,
              systemDiskId,
              systemDiskSizeGb: diskSizeGb,
              cpus: dto.cpus,
              memoryMb: dto.memoryMb,
              start,
              dataDisks,
              nic,
              ...(rootPasswordHash ? { rootPasswordHash } : {}),
            },
            reservations: { vmRecord: true },
          };
        },
      },
      options,
    );
  }

  /**
   * vm.clone (Gigas): a new VM from the source's attached disks (sizes may grow), its size, template and first
   * interface's network by default, on any node placement allows. The source is held only until its disks are
   * captured; a running one is captured with its filesystems frozen (its guest agent must answer).
   */
  clone(principal: Principal, sourceId: string, dto: CloneVmDto, options: MutationOptions): Promise<LaunchResult> {
    const groupIds = [...new Set(dto.antiAffinityGroupIds ?? [])].sort();
    const start = dto.start ?? false;
    return this.operations.launch<CloneVmInput>(
      {
        principal,
        operation: OPERATIONS['vm.clone'],
        request: {
          sourceVmId: sourceId,
          hostname: dto.hostname,
          cpus: dto.cpus ?? null,
          memoryMb: dto.memoryMb ?? null,
          label: dto.label ?? null,
          note: dto.note ?? null,
          nodeId: dto.nodeId ?? null,
          disks: (dto.disks ?? []).map((d) => ({ position: d.position, sizeGb: d.sizeGb })),
          start,
          antiAffinityGroupIds: groupIds,
        },
        prepare: async (tx, operationId) => {
          const source = await this.locks.acquireSettled(tx, principal.tenantId, sourceId, operationId, 'clone');
          if (source.frozen) throw new ApiError('VM_FROZEN', `${source.hostname} is frozen; unfreeze it first`, { frozen: true });
          const sourceDisks: { id: string; position: number; size_gb: number }[] = await tx.query(
            `SELECT id, position, size_gb FROM disks WHERE vm_id = $1 AND position IS NOT NULL ORDER BY position`,
            [source.id],
          );
          if (!sourceDisks.some((d) => d.position === 0)) throw invalidParameter('id', `${source.hostname} has no system disk attached`);
          for (const wanted of dto.disks ?? []) {
            const disk = sourceDisks.find((d) => d.position === wanted.position);
            if (!disk) throw invalidParameter('disks', `${source.hostname} has no disk at position ${wanted.position}`);
            if (wanted.sizeGb < disk.size_gb)
              throw invalidParameter(
                'disks',
                `disk ${wanted.position} of ${source.hostname} is ${disk.size_gb} GB; a clone's disk is at least as large`,
              );
          }
          const disks = sourceDisks.map((d) => ({
            sourceDiskId: d.id,
            imageId: randomUUID(),
            diskId: randomUUID(),
            position: d.position,
            sizeGb: dto.disks?.find((w) => w.position === d.position)?.sizeGb ?? d.size_gb,
          }));
          const [firstNic] = await tx.query(
            `SELECT network FROM network_interfaces WHERE vm_id = $1 ORDER BY position NULLS LAST LIMIT 1`,
            [source.id],
          );
          const cpus = dto.cpus ?? source.cpus;
          const memoryMb = dto.memoryMb ?? source.memoryMb;
          const { vmId, node, nic } = await this.recordNewVm(tx, principal, operationId, {
            hostname: dto.hostname,
            label: dto.label ?? null,
            note: dto.note ?? null,
            cpus,
            memoryMb,
            templateId: source.templateId,
            disks: disks.map((d) => ({ diskId: d.diskId, sizeGb: d.sizeGb, position: d.position, templateId: null })),
            network: firstNic?.network ?? 'public',
            nodeId: dto.nodeId,
            groupIds,
          });
          return {
            vm: { id: vmId, hostname: dto.hostname, nodeId: node.id },
            input: {
              operationId,
              tenantId: principal.tenantId,
              vmId,
              hostname: dto.hostname,
              nodeId: node.id,
              source: { vmId: source.id, hostname: source.hostname, nodeId: source.nodeId, running: source.status === 'running' },
              disks,
              nic,
              cpus,
              memoryMb,
              start,
            },
            reservations: { vmRecord: true },
          };
        },
      },
      options,
    );
  }

  /** Power actions: the VM must be idle and in the state the action starts from (423 otherwise). */
  async power(
    principal: Principal,
    vmId: string,
    action: PowerAction,
    powerOptions: PowerOptions,
    options: MutationOptions,
  ): Promise<LaunchResult> {
    const spec = POWER[action];
    return this.operations.launch<VmPowerInput>(
      {
        principal,
        operation: spec.operation,
        request: { vmId, ...powerOptions },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquire(tx, principal.tenantId, vmId, operationId);
          assertPowerState(vm, action, spec.requires, spec.frozen);
          const input: VmPowerInput = { operationId, vmId, hostname: vm.hostname, nodeId: vm.nodeId };
          if (powerOptions.bootIso) input.bootIso = powerOptions.bootIso;
          if (action === 'stop' || action === 'shutdown' || action === 'reboot')
            input.timeoutSeconds = powerOptions.timeoutSeconds ?? defaultStopTimeout(vm);
          if (action === 'stop' || action === 'reboot') input.force = powerOptions.force ?? false;
          if (action === 'stop' && vm.pendingSize) input.resize = { from: { cpus: vm.cpus, memoryMb: vm.memoryMb }, to: vm.pendingSize };
          return { vm, input };
        },
      },
      options,
    );
  }

  /** The tenant's groups `groupIds`, locked (412 naming any that is not), and the VMs already in them. */
  private async lockGroupsToJoin(tx: EntityManager, principal: Principal, groupIds: string[]): Promise<GroupNeighbour[]> {
    if (!groupIds.length) return [];
    await lockAntiAffinityGroups(tx, groupIds);
    const found: string[] = (
      await tx.query(`SELECT id FROM anti_affinity_groups WHERE id = ANY($1::uuid[]) AND tenant_id = $2`, [groupIds, principal.tenantId])
    ).map((r: { id: string }) => r.id);
    const unknown = groupIds.filter((id) => !found.includes(id));
    if (unknown.length) throw invalidParameter('antiAffinityGroupIds', `you have no anti-affinity group ${unknown.join(', ')}`);
    return groupNeighbours(tx, groupIds, null);
  }

  /**
   * Records a new VM for `operationId` — held by it, `creating` — with its disks and first interface, placed on
   * `nodeId` or by placement, apart from the VMs of the anti-affinity groups it joins: vm.create's and vm.clone's.
   */
  private async recordNewVm(
    tx: EntityManager,
    principal: Principal,
    operationId: string,
    vm: {
      hostname: string;
      label: string | null;
      note: string | null;
      cpus: number;
      memoryMb: number;
      templateId: string | null;
      disks: { diskId: string; sizeGb: number; position: number; templateId: string | null }[];
      network: string;
      nodeId?: string;
      groupIds: string[];
    },
  ): Promise<{ vmId: string; node: { id: string; name: string }; nic: NicSpec }> {
    await this.assertHostnameFree(tx, principal.tenantId, vm.hostname);
    const storageGb = vm.disks.reduce((sum, d) => sum + d.sizeGb, 0);
    const neighbours = await this.lockGroupsToJoin(tx, principal, vm.groupIds);
    // The address before the nodes: an interface's insert takes its node's row after the pool (see lockAntiAffinityGroups).
    const ipAddress = await allocateAddress(tx, vm.network, this.config.networkPools);
    const node = await placeVm(tx, { hostname: vm.hostname, cpus: vm.cpus, memoryMb: vm.memoryMb, storageGb }, vm.nodeId, neighbours);
    const vmId = randomUUID();
    try {
      await tx.insert(VmEntity, {
        id: vmId,
        tenantId: principal.tenantId,
        hostname: vm.hostname,
        label: vm.label,
        note: vm.note,
        cpus: vm.cpus,
        memoryMb: vm.memoryMb,
        nodeId: node.id,
        templateId: vm.templateId,
        status: 'creating',
        currentOperationId: operationId,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw hostnameTaken(vm.hostname);
      throw err;
    }
    // The disks are recorded up front so that their storage counts against the node at once.
    for (const d of vm.disks) {
      await tx.insert(DiskEntity, {
        id: d.diskId,
        tenantId: principal.tenantId,
        nodeId: node.id,
        vmId,
        position: d.position,
        sizeGb: d.sizeGb,
        templateId: d.templateId,
      });
    }
    if (vm.groupIds.length)
      await tx.query(`INSERT INTO anti_affinity_members (group_id, vm_id) SELECT unnest($1::uuid[]), $2`, [vm.groupIds, vmId]);
    const nicId = randomUUID();
    const nic = { nicId, mac: macFromId(nicId), network: vm.network };
    await tx.query(
      `INSERT INTO network_interfaces (id, tenant_id, node_id, vm_id, position, mac, network, ip_address) VALUES ($1, $2, $3, $4, 0, $5, $6, $7)`,
      [nicId, principal.tenantId, node.id, vmId, nic.mac, vm.network, ipAddress],
    );
    return { vmId, node, nic };
  }

  private async assertHostnameFree(tx: EntityManager, tenantId: string, hostname: string): Promise<void> {
    // Case-insensitively, as DNS names are (the unique index uq_vms_tenant_hostname_ci holds it under concurrency).
    const [taken] = await tx.query(`SELECT hostname FROM vms WHERE tenant_id = $1 AND lower(hostname) = lower($2)`, [tenantId, hostname]);
    if (taken) throw hostnameTaken(hostname, taken.hostname);
  }
}

const where = (position: number | null) => (position === null ? 'detached' : `attached at position ${position}`);

function hostnameTaken(hostname: string, existing = hostname): ApiError {
  const named = existing === hostname ? hostname : `${existing} (hostnames are not case-sensitive)`;
  return new ApiError('HOSTNAME_TAKEN', `you already have a VM named ${named}; choose another hostname`, { hostname, existing });
}

/** `$scrypt$<salt>$<hash>`: what the node gets to set the root password with (cloud-init style). */
function hashRootPassword(password: string): string {
  const salt = randomBytes(16);
  return `$scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
}
