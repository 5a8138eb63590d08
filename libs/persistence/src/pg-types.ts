import { types } from 'pg';
import parseDate from 'postgres-date';

/**
 * The type parsers of every connection our data sources make: pg's own, but a timestamptz is read by postgres-date 2
 * (the parser of pg-types 4), which gives the same Dates as the regular-expression parser of the pg-types that pg 8
 * ships, in about half its time and without the match arrays and substrings it allocates per value. A page of 100
 * operations reads 400 timestamps (bench:reads).
 */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === types.builtins.TIMESTAMPTZ && format !== 'binary') return parseTimestamptz;
    return types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

/** A timestamptz's text as the driver reads it for our connections (PG_TYPES): a Date, ±Infinity for ±infinity. */
export function parseTimestamptz(value: string): Date {
  return parseDate(value) as Date;
}
