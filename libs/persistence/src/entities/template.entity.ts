import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type OsFamily = 'linux' | 'windows';

/** An image VMs are built from. */
@Entity('templates')
export class TemplateEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ name: 'os_family', type: 'text' })
  osFamily!: OsFamily;

  /** Size of the system disk a VM gets from this template unless it asks for more. */
  @Column({ name: 'disk_size_gb', type: 'integer' })
  diskSizeGb!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
