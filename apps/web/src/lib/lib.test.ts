import { toBase64, utf8 } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { message } from '../test/fixtures';
import { csvCell, messagesToCsv, messagesToJson } from './export';
import { formatBytes, formatCount, formatDuration, formatRate } from './format';
import { decodePayload, hexDump, jsonTokens, previewPayload } from './payload';
import { base64Error, draftFromMessage, jsonError } from './republish';
import { decodeParam, routes } from './routes';
import { TailBuffer } from './tail-buffer';

describe('payload', () => {
  it('tells JSON, text, binary and empty apart', () => {
    expect(decodePayload(toBase64(utf8('{"a":1}'))).kind).toBe('json');
    expect(decodePayload(toBase64(utf8('[1, 2]'))).kind).toBe('json');
    expect(decodePayload(toBase64(utf8('{not json'))).kind).toBe('text');
    expect(decodePayload(toBase64(utf8('42'))).kind).toBe('text');
    expect(decodePayload(toBase64(utf8('héllo\nworld\t!'))).kind).toBe('text');
    expect(decodePayload(toBase64(new Uint8Array([0xff, 0xfe, 0x00]))).kind).toBe('binary');
    expect(decodePayload(toBase64(utf8('a\u0000b'))).kind).toBe('binary');
    expect(decodePayload('').kind).toBe('empty');
  });

  it('dumps hex with offsets and printable ASCII', () => {
    const rows = hexDump(new Uint8Array([...utf8('Hello, world!'), 0, 1, 2, 0x7f, 0x41]));
    expect(rows).toEqual([
      { offset: '00000000', hex: '48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02', ascii: 'Hello, world!...' },
      { offset: '00000010', hex: '7f 41                                           ', ascii: '.A' },
    ]);
  });

  it('tokenises pretty JSON for highlighting without losing a character', () => {
    const value = { key: 'va"l', n: -1.5e3, ok: true, none: null, list: [1, 'two'] };
    const tokens = jsonTokens(value);
    expect(tokens.map((t) => t.v).join('')).toBe(JSON.stringify(value, null, 2));
    expect(tokens.filter((t) => t.t === 'k').map((t) => t.v)).toEqual(['"key"', '"n"', '"ok"', '"none"', '"list"']);
    expect(tokens.filter((t) => t.t === 's').map((t) => t.v)).toEqual(['"va\\"l"', '"two"']);
    expect(tokens.filter((t) => t.t === 'n').map((t) => t.v)).toEqual(['-1500', '1']);
    expect(tokens.filter((t) => t.t === 'l').map((t) => t.v)).toEqual(['true', 'null']);
  });

  it('previews values on one line', () => {
    expect(previewPayload(toBase64(utf8('{\n  "a": 1\n}')))).toBe('{"a":1}');
    expect(previewPayload(toBase64(new Uint8Array([0, 255])))).toBe('0x 00 ff');
    expect(previewPayload('')).toBe('(empty)');
  });
});

describe('export', () => {
  it('quotes CSV cells and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvCell(null)).toBe('');
    expect(csvCell(-5)).toBe('-5');
  });

  it('exports text values as UTF-8 and binary as base64, one row per message', () => {
    const bin = message(2, { valueBase64: toBase64(new Uint8Array([0, 1])), key: null });
    const csv = messagesToCsv([message(1), bin]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('id,destination,partition,position,key,timestamp,size,encoding,value,headers,truncated,dlq_origin,dlq_reason,dlq_attempts');
    expect(lines[1]).toBe('0:1,orders,0,1,c-1,2026-01-01T00:00:01.000Z,29,utf8,"{""orderId"":""o-1"",""amount"":10}","{""content-type"":""application/json""}",false,,,');
    expect(lines[2]).toBe('0:2,orders,0,2,,2026-01-01T00:00:02.000Z,29,base64,AAE=,"{""content-type"":""application/json""}",false,,,');
    expect(lines).toHaveLength(4);
    const json = JSON.parse(messagesToJson([bin]));
    expect(json[0]).toMatchObject({ id: '0:2', encoding: 'base64', value: 'AAE=', key: null });
  });
});

describe('tail buffer', () => {
  it('holds at most its capacity, newest first, and counts drops plus server skips', () => {
    const b = new TailBuffer(3);
    b.push([message(1), message(2)], 0, 1000);
    b.push([message(3), message(4), message(5)], 7, 2000);
    expect(b.newestFirst().map((m) => m.position)).toEqual(['5', '4', '3']);
    expect(b.received).toBe(5);
    expect(b.dropped).toBe(2);
    expect(b.skippedTotal).toBe(9);
    expect(b.rate(2000)).toBe(1); // 5 messages over the last 5 s
    b.clear();
    expect(b.size).toBe(0);
    expect(b.skippedTotal).toBe(0);
  });
});

describe('republish and validation', () => {
  it('copies key, headers and the original JSON text', () => {
    const d = draftFromMessage(message(3, { headers: { a: '1' } }));
    expect(d).toMatchObject({ destination: 'orders', key: 'c-3', headers: [{ name: 'a', value: '1' }], encoding: 'json', value: '{"orderId":"o-3","amount":30}', partition: '0' });
  });

  it('locates JSON errors and checks base64', () => {
    expect(jsonError('{"a":1}')).toBeNull();
    expect(jsonError('{\n  "a": ,\n}')).toBe('line 2, column 8: unexpected ","');
    expect(jsonError('{"a": 1')).toBe('line 1, column 8: unexpected end of input');
    expect(base64Error('AAE=')).toBeNull();
    expect(base64Error('AAE')).not.toBeNull();
    expect(base64Error('A*E=')).not.toBeNull();
  });
});

describe('format and routes', () => {
  it('formats numbers for operators', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(null)).toBe('—');
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(2.345)).toBe('2.3/s');
    expect(formatRate(15_400)).toBe('15.4K/s');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3 MiB');
    expect(formatDuration(90_000)).toBe('1m 30s');
  });

  it('builds URLs that survive names with dots, slashes and spaces', () => {
    expect(routes.destination('prod', 'orders.DLT')).toBe('/c/prod/d/orders.DLT');
    expect(decodeParam('orders%2EDLT')).toBe('orders.DLT'); // links shared before dots were left as they are
    expect(routes.destination('prod', 'a/b c', 'tail')).toBe('/c/prod/d/a%2Fb%20c/tail');
    expect(routes.message('prod', 'orders', '1-0', { partition: 2, position: '1-0' })).toBe('/c/prod/d/orders/m/1-0?partition=2&position=1-0');
    expect(routes.deadLetters('prod', 'jobs:dlq')).toBe('/c/prod/dead-letters/jobs%3Adlq');
  });
});

describe('jsonErrorIndex', () => {
  it('points at the first bad character, -1 for valid JSON', async () => {
    const { jsonErrorIndex } = await import('./republish');
    for (const ok of ['{}', '[]', '{"a":[1,2.5e-3,-0,true,false,null,"x\\"\\u00e9"]}', ' 42 ', '"s"']) expect(jsonErrorIndex(ok)).toBe(-1);
    expect(jsonErrorIndex('{"a": 1,}')).toBe(8);
    expect(jsonErrorIndex('{"a" 1}')).toBe(5);
    expect(jsonErrorIndex('[1 2]')).toBe(3);
    expect(jsonErrorIndex('{"a": tru}')).toBe(9);
    expect(jsonErrorIndex('{"a": 01}')).toBe(7);
    expect(jsonErrorIndex('{"a": "x')).toBe(8);
    expect(jsonErrorIndex('{} x')).toBe(3);
    expect(jsonErrorIndex('')).toBe(0);
  });
});
