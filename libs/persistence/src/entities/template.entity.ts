import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type OsFamily = 'linux' | 'windows';
export type TemplateStatus = 'creating' | 'ready' | 'deleting';

/** An image VMs are built from: a base one (everyone's) or one a tenant made from a VM (its own). */
@Entity('templates')
export class TemplateEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Unique per owner. */
  @Column({ type: 'text' })
  name!: string;

  /** Null for a base template. */
  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId!: string | null;

  @Column({ type: 'text', default: 'ready' })
  status!: TemplateStatus;

  /** The VM whose system disk it was captured from. */
  @Column({ name: 'source_vm_id', type: 'uuid', nullable: true })
  sourceVmId!: string | null;

  /** The node whose agent captured its image (and deletes it). */
  @Column({ name: 'node_id', type: 'uuid', nullable: true })
  nodeId!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'os_family', type: 'text' })
  osFamily!: OsFamily;

  /** Size of the system disk a VM gets from this template unless it asks for more. */
  @Column({ name: 'disk_size_gb', type: 'integer' })
  diskSizeGb!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
