import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * A raw row (column names as in the table) as the entity TypeORM would have loaded: for reads that fetch a page
 * and what hangs on it in one statement. The pg driver has already parsed json, integers and timestamps.
 */
export function entityOfRow<E extends ObjectLiteral>(dataSource: DataSource, target: EntityTarget<E>, row: Record<string, unknown>): E {
  const entity: Record<string, unknown> = {};
  for (const column of dataSource.getMetadata(target).columns) {
    if (column.databaseName in row) entity[column.propertyName] = row[column.databaseName];
  }
  return entity as E;
}
