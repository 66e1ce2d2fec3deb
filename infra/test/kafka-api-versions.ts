// What the broker advertises (raw ApiVersions v0) versus what kafkajs implements, so a
// compatibility gap shows up as a named API and version numbers rather than a hang.
import net from 'node:net';
import { createRequire } from 'node:module';

export type VersionRange = { min: number; max: number };

export async function brokerApiVersions(broker: string, timeoutMs = 5_000): Promise<Map<number, VersionRange>> {
  const i = broker.lastIndexOf(':');
  const host = broker.slice(0, i);
  const port = Number(broker.slice(i + 1));
  const clientId = Buffer.from('mailroom-infra-test');
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0); // ApiVersions
  header.writeInt16BE(0, 2); // v0: accepted by every broker generation
  header.writeInt32BE(1, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.write(Buffer.concat([size, payload])));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ApiVersions answer from ${broker} in ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = Buffer.alloc(0);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      const errorCode = buf.readInt16BE(8);
      if (errorCode !== 0) return reject(new Error(`ApiVersions error ${errorCode}`));
      const ranges = new Map<number, VersionRange>();
      const count = buf.readInt32BE(10);
      for (let n = 0, off = 14; n < count; n++, off += 6) {
        ranges.set(buf.readInt16BE(off), { min: buf.readInt16BE(off + 2), max: buf.readInt16BE(off + 4) });
      }
      resolve(ranges);
    });
  });
}

export type KafkajsApi = { name: string; apiKey: number; versions: number[] };

/** The request versions kafkajs implements (read from its own protocol tables). */
export function kafkajsApis(): KafkajsApi[] {
  const require = createRequire(import.meta.url);
  const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;
  return Object.entries(apiKeys)
    .map(([name, apiKey]) => ({ name, apiKey, versions: (requests[name]?.versions ?? []).map(Number) }))
    .filter((api) => api.versions.length > 0);
}

/** kafkajs sends min(its highest version, the broker's highest); it never checks the broker's minimum. */
export function versionKafkajsSends(api: KafkajsApi, broker: VersionRange): number {
  return Math.min(Math.max(...api.versions), broker.max);
}
