import { types } from 'pg';
import { PG_TYPES, parseTimestamptz } from './pg-types';

/** pg's own parser, as every connection had it before PG_TYPES. */
const driverDefault = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text') as (value: string) => unknown;

const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() || (isNaN(a.getTime()) && isNaN(b.getTime())) : a === b;

describe('PG_TYPES', () => {
  it('reads a timestamptz as the Date the driver gave before, whatever its fraction, zone, era or range', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const values = [
      '2026-12-03 05:49:53.481494+00',
      '2026-12-03 05:49:53+00',
      '2026-12-03 05:49:53.5+00',
      '2026-12-03 05:49:53.999999+00',
      '2026-12-03 05:49:53.123456+05:30',
      '1900-01-01 00:00:00+00:19:32',
      '2026-12-03 05:49:53.5-08',
      '0099-05-01 10:00:00+00',
      '0001-01-01 00:00:00+00 BC',
      '12345-01-01 00:00:00+00',
      'infinity',
      '-infinity',
    ];
    for (let f = 0; f < 1_000_000; f += 7) values.push(`2026-12-03 05:49:53.${pad(f, 6)}+00`);
    for (let f = 0; f < 1000; f++) values.push(`2026-12-03 05:49:53.${String(f).replace(/0+$/, '') || '0'}+00`);
    let seed = 17;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const zones = ['+00', '-05', '+05:30', '+13:45', '-03:30'];
    for (let i = 0; i < 20_000; i++) {
      const t = new Date(Math.floor(random() * 8e12) - 2e12);
      values.push(
        `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)} ${pad(t.getUTCHours(), 2)}:` +
          `${pad(t.getUTCMinutes(), 2)}:${pad(t.getUTCSeconds(), 2)}.${pad(Math.floor(random() * 1e6), 6)}${zones[i % 5]}${i % 17 ? '' : ' BC'}`,
      );
    }
    const differing = values.filter((v) => !same(parseTimestamptz(v), driverDefault(v)));
    expect(differing).toEqual([]);
    expect(parseTimestamptz('2026-12-03 05:49:53.481494+00')).toEqual(new Date('2026-12-03T05:49:53.481Z'));
  });

  it('hands every other type to the driver', () => {
    expect(PG_TYPES.getTypeParser(types.builtins.TIMESTAMPTZ, 'text')).toBe(parseTimestamptz);
    for (const oid of [types.builtins.INT4, types.builtins.JSONB, types.builtins.TIMESTAMP, types.builtins.DATE, types.builtins.NUMERIC])
      expect(PG_TYPES.getTypeParser(oid, 'text')).toBe(types.getTypeParser(oid, 'text'));
    expect(PG_TYPES.getTypeParser(types.builtins.TIMESTAMPTZ, 'binary')).toBe(types.getTypeParser(types.builtins.TIMESTAMPTZ, 'binary'));
  });
});
