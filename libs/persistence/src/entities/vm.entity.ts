import type { VmStatus } from '@vmops/domain';
import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';

@Entity('vms')
@Unique('uq_vms_tenant_hostname', ['tenantId', 'hostname'])
export class VmEntity {
  /** Chosen by the API before the create workflow starts, so the workflow's steps are idempotent. */
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'text' })
  hostname!: string;

  @Column({ type: 'text', nullable: true })
  label!: string | null;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ type: 'integer' })
  cpus!: number;

  @Column({ name: 'memory_mb', type: 'integer' })
  memoryMb!: number;

  @Column({ name: 'node_id', type: 'uuid' })
  nodeId!: string;

  @Column({ name: 'template_id', type: 'uuid', nullable: true })
  templateId!: string | null;

  @Column({ type: 'text' })
  status!: VmStatus;

  /** A new size waiting for the VM's next stop (null: none). */
  @Column({ name: 'pending_cpus', type: 'integer', nullable: true })
  pendingCpus!: number | null;

  @Column({ name: 'pending_memory_mb', type: 'integer', nullable: true })
  pendingMemoryMb!: number | null;

  /** Held stopped: refuses to start until unfrozen. */
  @Column({ type: 'boolean', default: false })
  frozen!: boolean;

  /** The operation that owns the VM (the VM is locked while it is set); see VmLockService. */
  @Column({ name: 'current_operation_id', type: 'uuid', nullable: true })
  currentOperationId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
