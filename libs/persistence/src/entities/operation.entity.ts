import type { ChildOperation, JsonObject, OperationError, OperationStatus, OperationStep, OperationType } from '@vmops/contracts';
import type { Reservations } from '../queries/operations';
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The durable record of one asynchronous operation; its workflow holds the live detail while it runs. */
@Entity('operations')
export class OperationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  /** Set when another tenant's key asked for it (an operator's reset): that tenant may read it too. */
  @Column({ name: 'requested_by_tenant_id', type: 'uuid', nullable: true })
  requestedByTenantId!: string | null;

  @Column({ name: 'vm_id', type: 'uuid', nullable: true })
  vmId!: string | null;

  @Column({ type: 'text' })
  type!: OperationType;

  @Column({ type: 'text' })
  status!: OperationStatus;

  @Column({ name: 'workflow_id', type: 'text', unique: true })
  workflowId!: string;

  /** The request as accepted (after validation), for the record and for idempotent replays. */
  @Column({ type: 'jsonb' })
  request!: JsonObject;

  /** The client's Idempotency-Key header, unique per tenant. */
  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  /** sha256 of the operation type, target and request: the same key with another request is refused. */
  @Column({ name: 'request_hash', type: 'text', nullable: true })
  requestHash!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  steps!: OperationStep[];

  @Column({ type: 'jsonb', nullable: true })
  error!: OperationError | null;

  /** Operations this one started (a drain's migrations), as its workflow last reported them. */
  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  children!: ChildOperation[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Past this, a still-running operation is reported overdue (it is never killed for it). */
  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true })
  deadlineAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** What the launch reserved before the workflow started (see operation-ledger.ts). */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  reservations!: Reservations;
}
