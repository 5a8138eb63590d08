import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { firstSharedNode } from '@vmops/domain';
import { groupNeighbours, lockAntiAffinityGroups, occupiedNodes } from '@vmops/persistence';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/auth';
import { ApiError, invalidParameter, isUniqueViolation } from '../common/api-error';

export interface AntiAffinityGroupView {
  id: string;
  name: string;
  description: string | null;
  /** Each member with the node it is on. */
  members: { vmId: string; hostname: string; nodeId: string }[];
  createdAt: string;
}

interface GroupRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
}

/**
 * Anti-affinity groups (Gigas segregation): the VMs of a group never share a node. Placement at create, migration
 * and a drain's migrations honour every group a VM is in; a member joins only if it shares no node with the others.
 */
@Injectable()
export class AntiAffinityService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(principal: Principal): Promise<{ items: AntiAffinityGroupView[] }> {
    const rows: GroupRow[] = await this.dataSource.query(`SELECT * FROM anti_affinity_groups WHERE tenant_id = $1 ORDER BY name`, [
      principal.tenantId,
    ]);
    return { items: await this.views(this.dataSource.manager, rows) };
  }

  async get(principal: Principal, id: string): Promise<AntiAffinityGroupView> {
    const [view] = await this.views(this.dataSource.manager, [await this.groupOf(this.dataSource.manager, principal, id)]);
    return view;
  }

  create(principal: Principal, dto: { name: string; description?: string; vmIds?: string[] }): Promise<AntiAffinityGroupView> {
    return this.dataSource.transaction(async (tx) => {
      const id = randomUUID();
      const vmIds = await this.lockVms(tx, principal, dto.vmIds ?? []);
      await this.unique(dto.name, () =>
        tx.query(`INSERT INTO anti_affinity_groups (id, tenant_id, name, description) VALUES ($1, $2, $3, $4)`, [
          id,
          principal.tenantId,
          dto.name,
          dto.description ?? null,
        ]),
      );
      await this.join(tx, { id, name: dto.name }, vmIds);
      return (await this.views(tx, [await this.groupOf(tx, principal, id)]))[0];
    });
  }

  update(principal: Principal, id: string, dto: { name?: string; description?: string | null }): Promise<AntiAffinityGroupView> {
    return this.dataSource.transaction(async (tx) => {
      const group = await this.groupOf(tx, principal, id, true);
      await this.unique(dto.name ?? group.name, () =>
        tx.query(`UPDATE anti_affinity_groups SET name = $2, description = $3 WHERE id = $1`, [
          id,
          dto.name ?? group.name,
          dto.description === undefined ? group.description : dto.description,
        ]),
      );
      return (await this.views(tx, [await this.groupOf(tx, principal, id)]))[0];
    });
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await this.groupOf(tx, principal, id, true);
      await tx.query(`DELETE FROM anti_affinity_groups WHERE id = $1`, [id]);
    });
  }

  /** Adds VMs to the group: 409 ANTI_AFFINITY, naming the VM already there, if one would share a node with a member. */
  addMembers(principal: Principal, id: string, vmIds: string[]): Promise<AntiAffinityGroupView> {
    return this.dataSource.transaction(async (tx) => {
      await this.groupOf(tx, principal, id);
      // The VMs' rows before the group's (see lockAntiAffinityGroups): a migration of one of them waits, or is seen.
      const locked = await this.lockVms(tx, principal, vmIds);
      const group = await this.groupOf(tx, principal, id, true);
      await this.join(tx, group, locked);
      return (await this.views(tx, [group]))[0];
    });
  }

  removeMember(principal: Principal, id: string, vmId: string): Promise<AntiAffinityGroupView> {
    return this.dataSource.transaction(async (tx) => {
      const group = await this.groupOf(tx, principal, id, true);
      const [, removed] = await tx.query(`DELETE FROM anti_affinity_members WHERE group_id = $1 AND vm_id = $2`, [id, vmId]);
      if (!removed) throw new ApiError('NOT_FOUND', `VM ${vmId} is not in anti-affinity group ${group.name}`, { vmId });
      return (await this.views(tx, [group]))[0];
    });
  }

  /** Records `vmIds` (locked, with the group) as members, unless two of the members would then share a node. */
  private async join(tx: EntityManager, group: { id: string; name: string }, vmIds: string[]): Promise<void> {
    if (!vmIds.length) return;
    const joining = await occupiedNodes(tx, vmIds);
    const members = (await groupNeighbours(tx, [group.id], null)).filter((m) => !vmIds.includes(m.vmId));
    const shared = firstSharedNode([...members, ...joining]);
    if (shared) {
      throw new ApiError(
        'ANTI_AFFINITY',
        `${shared.vm.hostname} and ${shared.already.hostname} are on one node; anti-affinity group ${group.name} cannot hold both until one of them migrates`,
        {
          group: { id: group.id, name: group.name },
          vm: { id: shared.already.vmId, hostname: shared.already.hostname },
          joining: shared.vm,
          nodeId: shared.nodeId,
        },
      );
    }
    await tx.query(`INSERT INTO anti_affinity_members (group_id, vm_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, [
      group.id,
      vmIds,
    ]);
  }

  /** The tenant's VMs `vmIds`, their rows locked in id order; 412 naming any that is not the tenant's. */
  private async lockVms(tx: EntityManager, principal: Principal, vmIds: string[]): Promise<string[]> {
    const ids = [...new Set(vmIds)].sort();
    if (!ids.length) return [];
    const found: string[] = (
      await tx.query(`SELECT id FROM vms WHERE id = ANY($1::uuid[]) AND tenant_id = $2 ORDER BY id FOR UPDATE`, [ids, principal.tenantId])
    ).map((r: { id: string }) => r.id);
    const unknown = ids.filter((v) => !found.includes(v));
    if (unknown.length) throw invalidParameter('vmIds', `you have no VM ${unknown.join(', ')}`);
    return ids;
  }

  private async groupOf(m: EntityManager, principal: Principal, id: string, lock = false): Promise<GroupRow> {
    if (lock) await lockAntiAffinityGroups(m, [id]);
    const [row] = await m.query(`SELECT * FROM anti_affinity_groups WHERE id = $1 AND tenant_id = $2`, [id, principal.tenantId]);
    if (!row) throw new ApiError('NOT_FOUND', `anti-affinity group ${id} does not exist`, { groupId: id });
    return row;
  }

  private async views(m: EntityManager, rows: GroupRow[]): Promise<AntiAffinityGroupView[]> {
    const members: { group_id: string; vm_id: string; hostname: string; node_id: string }[] = await m.query(
      `SELECT am.group_id, v.id AS vm_id, v.hostname, v.node_id FROM anti_affinity_members am JOIN vms v ON v.id = am.vm_id
        WHERE am.group_id = ANY($1::uuid[]) ORDER BY v.hostname`,
      [rows.map((r) => r.id)],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      members: members.filter((x) => x.group_id === r.id).map((x) => ({ vmId: x.vm_id, hostname: x.hostname, nodeId: x.node_id })),
      createdAt: r.created_at.toISOString(),
    }));
  }

  private async unique<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError('NAME_TAKEN', `you already have an anti-affinity group named ${name}`, { name });
      }
      throw err;
    }
  }
}
