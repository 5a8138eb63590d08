import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('disks')
export class DiskEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'node_id', type: 'uuid' })
  nodeId!: string;

  /** Null for a detached disk. */
  @Column({ name: 'vm_id', type: 'uuid', nullable: true })
  vmId!: string | null;

  /** 0 is the system disk; null when detached. */
  @Column({ type: 'integer', nullable: true })
  position!: number | null;

  @Column({ name: 'size_gb', type: 'integer' })
  sizeGb!: number;

  @Column({ name: 'template_id', type: 'uuid', nullable: true })
  templateId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
