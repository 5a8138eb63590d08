import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

/** Prometheus gauges read from the inventory at scrape time, so every API replica reports the same truth. */
@Injectable()
export class OperationMetrics {
  readonly registry = new Registry();

  constructor(@InjectDataSource() dataSource: DataSource) {
    type Row = { type: string; unfinished: number; overdue: number };
    const unfinished = () =>
      dataSource.query(
        `SELECT type, count(*)::int AS unfinished, count(*) FILTER (WHERE deadline_at < now())::int AS overdue
           FROM operations WHERE finished_at IS NULL GROUP BY type`,
      ) as Promise<Row[]>;
    const byType = (name: string, help: string, value: (row: Row) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['type'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const row of await unfinished()) this.set({ type: row.type }, value(row));
        },
      });
    byType('vmops_operations_overdue', 'Operations still running past the deadline of their type', (r) => r.overdue);
    byType('vmops_operations_unfinished', 'Operations pending, running, cancelling or compensating', (r) => r.unfinished);
  }
}
