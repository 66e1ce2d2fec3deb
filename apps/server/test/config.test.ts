import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/load';
import { REDIS_URL, tempDir, testApp, waitFor } from './helpers';

describe('configuration', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('reads named connections from the MAILROOM_CONFIG JSON file, plus the memory connection', async () => {
    const file = path.join(dir.dir, 'mailroom.json');
    writeFileSync(
      file,
      JSON.stringify({
        memory: { demoTraffic: false, name: 'Demo' },
        connections: [
          { id: 'cache', name: 'Cache streams', kind: 'redis', config: { url: REDIS_URL } },
          { id: 'cache-ro', kind: 'redis', readOnly: true, config: { url: REDIS_URL } },
        ],
        health: { intervalMs: 500 },
      }),
    );
    const settings = await loadSettings({ MAILROOM_CONFIG: file, PORT: '9999', HOST: '0.0.0.0', MAILROOM_DATA_DIR: dir.dir });
    expect(settings.connections.map((c) => [c.id, c.kind, c.readOnly, c.demoTraffic])).toEqual([
      ['memory', 'memory', false, false],
      ['cache', 'redis', false, false],
      ['cache-ro', 'redis', true, false],
    ]);
    expect(settings.connections[0]!.name).toBe('Demo');
    expect(settings).toMatchObject({ port: 9999, host: '0.0.0.0', dataDir: dir.dir, configPath: file });
    expect(settings.health.intervalMs).toBe(500);

    const app = await testApp({ env: { MAILROOM_CONFIG: file }, dataDir: dir.dir, memory: undefined });
    try {
      await waitFor('both up', async () => (await app.caller.connections.list()).every((c) => c.health.status === 'up'));
      expect((await app.caller.connections.list()).map((c) => c.id)).toEqual(['memory', 'cache', 'cache-ro']);
    } finally {
      await app.close();
    }
  });

  it('creates default connections from environment variables (MAILROOM_ prefix wins), memory on by default', async () => {
    const settings = await loadSettings({ REDIS_URL: 'redis://127.0.0.1:6390', MAILROOM_REDIS_URL: REDIS_URL, KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(settings.connections.map((c) => c.id)).toEqual(['memory', 'kafka', 'redis']);
    expect(settings.connections[0]!.demoTraffic).toBe(true);
    expect(settings.connections.find((c) => c.id === 'redis')!.config).toMatchObject({ url: REDIS_URL });
    expect(settings.connections.find((c) => c.id === 'kafka')!.config).toMatchObject({ brokers: ['127.0.0.1:9092'] });
    expect(settings).toMatchObject({ port: 8080, host: '127.0.0.1' });
    expect(settings.dataDir).toBe(path.resolve('.mailroom-data'));

    const noMemory = await loadSettings({ MAILROOM_MEMORY: 'off' });
    expect(noMemory.connections).toEqual([]);
    const quiet = await loadSettings({ MAILROOM_DEMO_TRAFFIC: '0' });
    expect(quiet.connections[0]).toMatchObject({ id: 'memory', demoTraffic: false });
  });

  it('rejects a bad config with a message that says what is wrong', async () => {
    const bad = (file: unknown) => loadSettings({}, { file }).then(() => 'accepted', (e: Error) => e.message);
    expect(await bad({ connections: [{ id: 'x', kind: 'mqtt' }] })).toMatch(/kind "mqtt"; known kinds: kafka, memory, rabbitmq, redis, sqs/);
    expect(await bad({ connections: [{ id: 'a', kind: 'redis' }, { id: 'a', kind: 'redis' }] })).toMatch(/"a" is declared twice/);
    expect(await bad({ connections: [{ id: 'has space', kind: 'redis' }] })).toMatch(/connections\.0\.id/);
    expect(await bad({ conections: [] })).toMatch(/Unrecognized key/);
    const file = path.join(dir.dir, 'broken.json');
    writeFileSync(file, '{ "connections": [');
    expect(await loadSettings({ MAILROOM_CONFIG: file }).then(() => 'accepted', (e: Error) => e.message)).toMatch(/is not valid JSON/);
    expect(await loadSettings({ MAILROOM_CONFIG: path.join(dir.dir, 'missing.json') }).then(() => 'accepted', (e: Error) => e.message)).toMatch(/does not exist/);
  });
});
