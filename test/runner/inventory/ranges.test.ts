import { InventoryError } from '../../../runner/errors';
import { expandHostEntry } from '../../../runner/inventory/ranges';

describe('expandHostEntry', () => {
  test('plain names and ports', () => {
    expect(expandHostEntry('web1')).toEqual({ hosts: ['web1'] });
    expect(expandHostEntry('web1:2222')).toEqual({ hosts: ['web1'], port: 2222 });
    expect(expandHostEntry('10.0.0.1:22')).toEqual({ hosts: ['10.0.0.1'], port: 22 });
    expect(expandHostEntry('[2001:db8::1]:2203')).toEqual({ hosts: ['2001:db8::1'], port: 2203 });
    expect(expandHostEntry('fe80::5')).toEqual({ hosts: ['fe80::5'] });
  });

  test('numeric ranges keep zero padding', () => {
    expect(expandHostEntry('db[01:03]').hosts).toEqual(['db01', 'db02', 'db03']);
    expect(expandHostEntry('db[8:11]').hosts).toEqual(['db8', 'db9', 'db10', 'db11']);
    expect(expandHostEntry('db[:2]').hosts).toEqual(['db0', 'db1', 'db2']);
  });

  test('alphabetic ranges, steps, several ranges, ranges with a port', () => {
    expect(expandHostEntry('web[a:c]').hosts).toEqual(['weba', 'webb', 'webc']);
    expect(expandHostEntry('n[1:10:4]').hosts).toEqual(['n1', 'n5', 'n9']);
    expect(expandHostEntry('n[a:e:2]').hosts).toEqual(['na', 'nc', 'ne']);
    expect(expandHostEntry('r[1:2]-x[a:b].lan').hosts).toEqual(['r1-xa.lan', 'r1-xb.lan', 'r2-xa.lan', 'r2-xb.lan']);
    expect(expandHostEntry('10.0.0.[1:3]:2222')).toEqual({ hosts: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], port: 2222 });
  });

  test.each([
    ['h[3:1]', /begin is after end/],
    ['h[01:100]', /same width/],
    ['h[1:a]', /both be numbers or both single letters/],
    ['h[1:5:0]', /step must be a positive integer/],
    ['h[1]', /begin:end/],
    ['h[1:3', /no closing/],
    ['h[1:]', /end is missing/],
    ['h[0:999999]', /more than 100000 hosts/],
    ['h:', /ends in ':'/],
    ['h:70000', /out of range/],
  ])('bad entry %s', (entry, msg) => {
    let err: unknown;
    try {
      expandHostEntry(entry, { file: 'inv', line: 3, column: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).message).toMatch(msg);
    expect((err as InventoryError).location).toEqual({ file: 'inv', line: 3, column: 1 });
  });
});
