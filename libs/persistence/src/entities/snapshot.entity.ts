import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type SnapshotType = 'manual' | 'automatic';
export type SnapshotStatus = 'pending' | 'ok' | 'deleting' | 'failed';

/** A point-in-time copy of one disk; `automatic` ones come from a snapshot definition (cron + retention). */
@Entity('snapshots')
export class SnapshotEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'vm_id', type: 'uuid', nullable: true })
  vmId!: string | null;

  @Column({ name: 'disk_id', type: 'uuid' })
  diskId!: string;

  /** Unique per disk, as in Erigones: letters, digits, dots, dashes and underscores. */
  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  type!: SnapshotType;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ type: 'text' })
  status!: SnapshotStatus;

  @Column({ name: 'size_mb', type: 'integer', nullable: true })
  sizeMb!: number | null;

  @Column({ name: 'definition_id', type: 'uuid', nullable: true })
  definitionId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
