import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type NodeStatus = 'online' | 'offline' | 'maintenance';

/** A hypervisor host. */
@Entity('nodes')
export class NodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text' })
  datacenter!: string;

  @Column({ type: 'text' })
  status!: NodeStatus;

  @Column({ type: 'integer' })
  cpus!: number;

  @Column({ name: 'memory_mb', type: 'integer' })
  memoryMb!: number;

  @Column({ name: 'storage_gb', type: 'integer' })
  storageGb!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
