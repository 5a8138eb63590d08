import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('network_interfaces')
export class NetworkInterfaceEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'node_id', type: 'uuid' })
  nodeId!: string;

  /** Null for a detached interface. */
  @Column({ name: 'vm_id', type: 'uuid', nullable: true })
  vmId!: string | null;

  @Column({ type: 'integer', nullable: true })
  position!: number | null;

  @Column({ type: 'text', default: 'public' })
  network!: string;

  /** Lowercase, colon-separated. */
  @Column({ type: 'text', unique: true })
  mac!: string;

  @Column({ name: 'ip_address', type: 'inet', nullable: true })
  ipAddress!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
