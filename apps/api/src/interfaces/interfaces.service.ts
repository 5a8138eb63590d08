import { OPERATIONS, type OperationEntry } from '@vmops/catalogue';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@vmops/config';
import { APP_CONFIG } from '../config.token';
import { allocateAddress } from './address-pool';
import { InjectDataSource } from '@nestjs/typeorm';
import type { NicChangeInput, NicCreateInput } from '@vmops/contracts';
import { macFromId } from '@vmops/domain';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, notFound } from '../common/api-error';
import { OperationsService, type LaunchResult, type MutationOptions } from '../operations/operations.service';
import { VmLockService, vmOperationInput, type LockedVm } from '../operations/vm-lock.service';

/** Positions 0 (the first interface) to 7. */
export const MAX_NIC_POSITION = 7;

export interface InterfaceView {
  id: string;
  vmId: string | null;
  nodeId: string;
  /** Null when detached. */
  position: number | null;
  mac: string;
  network: string;
  ipAddress: string | null;
  createdAt: string;
}

interface NicRow {
  id: string;
  vm_id: string | null;
  node_id: string;
  position: number | null;
  mac: string;
  network: string;
  ip_address: string | null;
  created_at: Date;
}

const toView = (n: NicRow): InterfaceView => ({
  id: n.id,
  vmId: n.vm_id,
  nodeId: n.node_id,
  position: n.position,
  mac: n.mac,
  network: n.network,
  ipAddress: n.ip_address,
  createdAt: n.created_at.toISOString(),
});

/** A launch, with what the consumer should know although nothing was refused (Gandi lets a VM end with no interface). */
export type InterfaceLaunch = LaunchResult & { warnings: string[] };

/**
 * A VM's network interfaces (Gandi ifaces), each with its MAC and an address from its network's pool
 * (NETWORK_POOLS; none on a network without one): created on a network and attached, attached, detached, deleted —
 * hot-plugged, whether the VM runs or not. A detached interface stays the VM's, its MAC kept, until the VM is
 * deleted; then it is nobody's and any VM on its node may attach it.
 */
@Injectable()
export class InterfacesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly operations: OperationsService,
    private readonly locks: VmLockService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(principal: Principal, filter: { vmId?: string; detached?: boolean; network?: string }): Promise<{ items: InterfaceView[] }> {
    const rows: NicRow[] = await this.dataSource.query(
      `SELECT * FROM network_interfaces
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR vm_id = $2) AND ($3::boolean IS NULL OR (position IS NULL) = $3) AND ($4::text IS NULL OR network = $4)
        ORDER BY vm_id NULLS LAST, position NULLS LAST, created_at, id`,
      [principal.tenantId, filter.vmId ?? null, filter.detached ?? null, filter.network ?? null],
    );
    return { items: rows.map(toView) };
  }

  async listOfVm(principal: Principal, vmId: string): Promise<{ items: InterfaceView[]; warnings: string[] }> {
    const [vm] = await this.dataSource.query(`SELECT hostname FROM vms WHERE id = $1 AND tenant_id = $2`, [vmId, principal.tenantId]);
    if (!vm) throw notFound('VM', vmId);
    const { items } = await this.list(principal, { vmId });
    return { items, warnings: items.some((n) => n.position !== null) ? [] : [noInterfaceWarning(vm.hostname, 'has')] };
  }

  async create(
    principal: Principal,
    vmId: string,
    dto: { network?: string; position?: number },
    options: MutationOptions,
  ): Promise<InterfaceLaunch> {
    const nicId = randomUUID();
    const network = dto.network ?? 'public';
    const result = await this.operations.launch<NicCreateInput>(
      {
        principal,
        operation: OPERATIONS['nic.create'],
        request: { vmId, network, position: dto.position ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the interfaces of');
          const position = await this.freePosition(tx, vm, dto.position);
          const nic = { nicId, mac: macFromId(nicId), network };
          // Recorded detached until the operation attaches it: its MAC and address are taken at once.
          await tx.query(
            `INSERT INTO network_interfaces (id, tenant_id, node_id, vm_id, position, mac, network, ip_address) VALUES ($1, $2, $3, $4, NULL, $5, $6, $7)`,
            [nicId, principal.tenantId, vm.nodeId, vmId, nic.mac, network, await allocateAddress(tx, network, this.config.networkPools)],
          );
          return { vm, input: { ...vmOperationInput(operationId, vm), nic, position }, reservations: { nicIds: [nicId] } };
        },
      },
      options,
    );
    return { ...result, warnings: [] };
  }

  async attach(
    principal: Principal,
    vmId: string,
    nicId: string,
    dto: { position?: number },
    options: MutationOptions,
  ): Promise<InterfaceLaunch> {
    const result = await this.operations.launch<NicChangeInput>(
      {
        principal,
        operation: OPERATIONS['nic.attach'],
        request: { vmId, nicId, position: dto.position ?? null },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the interfaces of');
          const [nic]: NicRow[] = await tx.query(`SELECT * FROM network_interfaces WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [
            nicId,
            principal.tenantId,
          ]);
          if (!nic || (nic.vm_id !== null && nic.vm_id !== vmId)) throw notFound('interface', nicId);
          if (nic.position !== null) {
            throw new ApiError(
              'INTERFACE_ATTACHED',
              `interface ${nicId} is attached at position ${nic.position}; an interface is attached to one VM at a time`,
              {
                position: nic.position,
              },
            );
          }
          if (nic.node_id !== vm.nodeId) {
            throw new ApiError('NODE_MISMATCH', `interface ${nicId} is on another node than ${vm.hostname}`, {
              interfaceNodeId: nic.node_id,
            });
          }
          const position = await this.freePosition(tx, vm, dto.position);
          const claimed = nic.vm_id === null;
          // A nobody's interface is recorded as this VM's at once, so that no other launch takes it meanwhile.
          if (claimed) await tx.query(`UPDATE network_interfaces SET vm_id = $2 WHERE id = $1`, [nicId, vmId]);
          return {
            vm,
            input: { ...vmOperationInput(operationId, vm), nicId, mac: nic.mac, attachedAt: null, position, claimed },
            ...(claimed ? { reservations: { claimedNicIds: [nicId] } } : {}),
          };
        },
      },
      options,
    );
    return { ...result, warnings: [] };
  }

  detach(principal: Principal, vmId: string, nicId: string, options: MutationOptions): Promise<InterfaceLaunch> {
    return this.change(principal, vmId, nicId, OPERATIONS['nic.detach'], options, (nic) => {
      if (nic.position === null) throw new ApiError('INTERFACE_DETACHED', `interface ${nicId} is not attached`, {});
    });
  }

  delete(principal: Principal, vmId: string, nicId: string, options: MutationOptions): Promise<InterfaceLaunch> {
    return this.change(principal, vmId, nicId, OPERATIONS['nic.delete'], options, () => undefined);
  }

  /** nic.detach / nic.delete: lock the VM, find its interface, check, launch; warn when the VM is left with none. */
  private async change(
    principal: Principal,
    vmId: string,
    nicId: string,
    operation: OperationEntry<NicChangeInput>,
    options: MutationOptions,
    check: (nic: NicRow) => void,
  ): Promise<InterfaceLaunch> {
    const warnings: string[] = [];
    const result = await this.operations.launch<NicChangeInput>(
      {
        principal,
        operation,
        request: { vmId, nicId },
        prepare: async (tx, operationId) => {
          const vm = await this.locks.acquireSettled(tx, principal.tenantId, vmId, operationId, 'change the interfaces of');
          const [nic]: NicRow[] = await tx.query(`SELECT * FROM network_interfaces WHERE id = $1 AND vm_id = $2`, [nicId, vmId]);
          if (!nic) throw notFound('interface', nicId);
          check(nic);
          const [{ others }] = await tx.query(
            `SELECT count(*)::int AS others FROM network_interfaces WHERE vm_id = $1 AND position IS NOT NULL AND id <> $2`,
            [vmId, nicId],
          );
          if (nic.position !== null && others === 0) warnings.push(noInterfaceWarning(vm.hostname, 'will have'));
          return { vm, input: { ...vmOperationInput(operationId, vm), nicId, mac: nic.mac, attachedAt: nic.position } };
        },
      },
      options,
    );
    return { ...result, warnings };
  }

  /** `wanted` if it is free (409 otherwise), else the lowest free position. */
  private async freePosition(tx: EntityManager, vm: LockedVm, wanted: number | undefined): Promise<number> {
    const rows: { position: number }[] = await tx.query(
      `SELECT position FROM network_interfaces WHERE vm_id = $1 AND position IS NOT NULL`,
      [vm.id],
    );
    const taken = new Set(rows.map((r) => r.position));
    if (wanted !== undefined) {
      if (taken.has(wanted))
        throw new ApiError('POSITION_TAKEN', `${vm.hostname} already has an interface at position ${wanted}`, { position: wanted });
      return wanted;
    }
    for (let p = 0; p <= MAX_NIC_POSITION; p++) if (!taken.has(p)) return p;
    throw new ApiError('INTERFACE_LIMIT_REACHED', `${vm.hostname} has an interface at every position (0-${MAX_NIC_POSITION})`, {});
  }
}

function noInterfaceWarning(hostname: string, tense: 'has' | 'will have'): string {
  return `${hostname} ${tense} no network interface attached: it is reachable only through its console`;
}
