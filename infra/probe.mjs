#!/usr/bin/env node
// Readiness probes for the dev/CI brokers. Dependency-free on purpose: it runs before
// `pnpm install` may have happened, and it must speak each broker's real protocol
// (an open TCP port alone proves nothing: a JVM binds long before it can serve).
//
//   node infra/probe.mjs [--wait SECONDS] [--watch NAME=PID ...] [--json] NAME...
//   NAME: kafka | sqs | amqp | rabbitmq-mgmt | redis
//
// Without --wait every probe runs once. With --wait, probes that fail are retried until
// they pass or the deadline passes; a --watch'ed pid that exits ends that wait at once.
// Exit code 0 only when every named probe passed. One line per probe on stdout.
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

const ATTEMPT_TIMEOUT_MS = 3000;

const endpoints = {
  kafka: () => hostPort(firstBroker(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'), 9092),
  sqs: () => new URL(process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324'),
  amqp: () => {
    const u = new URL(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5672) };
  },
  'rabbitmq-mgmt': () => {
    const u = new URL(process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672');
    const amqp = new URL(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    // Credentials: from the management URL if it has any, else the AMQP URL's, else guest.
    const user = decodeURIComponent(u.username || amqp.username || 'guest');
    const pass = decodeURIComponent(u.password || amqp.password || 'guest');
    u.username = '';
    u.password = '';
    return { url: u, user, pass };
  },
  redis: () => {
    const u = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return {
      host: u.hostname || '127.0.0.1',
      port: Number(u.port || 6379),
      password: u.password ? decodeURIComponent(u.password) : null,
      user: u.username ? decodeURIComponent(u.username) : null,
    };
  },
};

function firstBroker(list) {
  return list.split(',')[0].trim();
}

function hostPort(s, defaultPort) {
  const i = s.lastIndexOf(':');
  if (i < 0) return { host: s, port: defaultPort };
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

// Opens a socket, writes `request`, and feeds received bytes to `parse` until it returns
// a result (non-undefined) or throws. Times out instead of hanging.
function tcpExchange({ host, port }, request, parse) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${host}:${port} within ${ATTEMPT_TIMEOUT_MS} ms`)),
      ATTEMPT_TIMEOUT_MS,
    );
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const result = parse(buf);
        if (result !== undefined) finish(null, result);
      } catch (err) {
        finish(err);
      }
    });
    socket.on('error', (err) => finish(new Error(`${host}:${port}: ${err.code ?? err.message}`)));
    socket.on('end', () => finish(new Error(`${host}:${port} closed the connection without a valid answer`)));
  });
}

function httpRequest(url, { method = 'GET', headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, timeout: ATTEMPT_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${ATTEMPT_TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(new Error(`${url.host}: ${err.code ?? err.message}`)));
    if (body) req.write(body);
    req.end();
  });
}

// Kafka ApiVersions v0 (api key 18): the one request every broker version must accept
// unauthenticated, since clients use it to negotiate everything else.
async function probeKafka() {
  const ep = endpoints.kafka();
  const clientId = Buffer.from('mailroom-probe');
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0); // api key ApiVersions
  header.writeInt16BE(0, 2); // api version 0
  header.writeInt32BE(0x6d72, 4); // correlation id
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  const apis = await tcpExchange(ep, Buffer.concat([size, payload]), (buf) => {
    if (buf.length < 4) return undefined;
    const len = buf.readInt32BE(0);
    if (len < 0 || len > 1 << 20) throw new Error(`${ep.host}:${ep.port} is not a Kafka broker (frame size ${len})`);
    if (buf.length < 4 + len) return undefined;
    if (buf.readInt32BE(4) !== 0x6d72) throw new Error('Kafka ApiVersions: wrong correlation id');
    const error = buf.readInt16BE(8);
    if (error !== 0) throw new Error(`Kafka ApiVersions error code ${error}`);
    const count = buf.readInt32BE(10);
    const ranges = new Map();
    for (let i = 0, off = 14; i < count; i++, off += 6) {
      ranges.set(buf.readInt16BE(off), [buf.readInt16BE(off + 2), buf.readInt16BE(off + 4)]);
    }
    return ranges;
  });
  const fmt = (key, name) => {
    const r = apis.get(key);
    return r ? `${name} v${r[0]}-${r[1]}` : `${name} n/a`;
  };
  const metadata = await probeKafkaMetadata(ep, clientId, apis.get(3));
  // Produce/Fetch/Metadata ranges identify the broker generation (4.x dropped old versions).
  return `${ep.host}:${ep.port} ApiVersions ok: ${apis.size} APIs; ${fmt(0, 'Produce')}, ${fmt(1, 'Fetch')}, ${fmt(3, 'Metadata')}; ${metadata}`;
}

// Metadata v1 (api key 3) for no topics: answered with the brokers and the controller only once
// the node has registered with the KRaft controller, which ApiVersions alone does not prove.
async function probeKafkaMetadata(ep, clientId, range) {
  if (!range || range[0] > 1 || range[1] < 1) throw new Error(`${ep.host}:${ep.port} does not accept Metadata v1 (range ${range ? range.join('-') : 'n/a'})`);
  const header = Buffer.alloc(10);
  header.writeInt16BE(3, 0); // api key Metadata
  header.writeInt16BE(1, 2); // api version 1
  header.writeInt32BE(0x6d73, 4); // correlation id
  header.writeInt16BE(clientId.length, 8);
  const noTopics = Buffer.alloc(4); // an empty array: the cluster, not every topic
  const payload = Buffer.concat([header, clientId, noTopics]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  const { brokers, controller } = await tcpExchange(ep, Buffer.concat([size, payload]), (buf) => {
    if (buf.length < 4) return undefined;
    const len = buf.readInt32BE(0);
    if (len < 0 || len > 1 << 20) throw new Error(`${ep.host}:${ep.port} is not a Kafka broker (frame size ${len})`);
    if (buf.length < 4 + len) return undefined;
    if (buf.readInt32BE(4) !== 0x6d73) throw new Error('Kafka Metadata: wrong correlation id');
    let off = 8;
    const count = buf.readInt32BE(off);
    off += 4;
    const nodes = [];
    for (let i = 0; i < count; i++) {
      const node = buf.readInt32BE(off);
      const hostLen = buf.readInt16BE(off + 4);
      const host = buf.toString('utf8', off + 6, off + 6 + hostLen);
      off += 6 + hostLen;
      const port = buf.readInt32BE(off);
      const rackLen = buf.readInt16BE(off + 4);
      off += 6 + Math.max(rackLen, 0);
      nodes.push(`${node}@${host}:${port}`);
    }
    return { brokers: nodes, controller: buf.readInt32BE(off) };
  });
  if (brokers.length === 0) throw new Error(`${ep.host}:${ep.port} Metadata lists no brokers yet (still registering with the controller)`);
  if (controller < 0) throw new Error(`${ep.host}:${ep.port} Metadata names no controller yet`);
  return `Metadata ok: brokers ${brokers.join(', ')}, controller ${controller}`;
}

// AMQP 0-9-1 protocol header; a RabbitMQ node answers with a Connection.Start method frame.
async function probeAmqp() {
  const ep = endpoints.amqp();
  const result = await tcpExchange(ep, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), (buf) => {
    if (buf.length >= 8 && buf.subarray(0, 4).toString('latin1') === 'AMQP') {
      throw new Error(`broker refused AMQP 0-9-1, offers protocol ${[...buf.subarray(4, 8)].join('.')}`);
    }
    if (buf.length < 11) return undefined;
    const type = buf.readUInt8(0);
    const channel = buf.readUInt16BE(1);
    const classId = buf.readUInt16BE(7);
    const methodId = buf.readUInt16BE(9);
    if (type !== 1 || channel !== 0 || classId !== 10 || methodId !== 10) {
      throw new Error(`${ep.host}:${ep.port} answered, but not with AMQP Connection.Start`);
    }
    return { major: buf.readUInt8(11), minor: buf.readUInt8(12) };
  });
  return `${ep.host}:${ep.port} Connection.Start (AMQP ${result.major}-${result.minor})`;
}

async function probeRabbitMgmt() {
  const { url, user, pass } = endpoints['rabbitmq-mgmt']();
  const target = new URL('/api/overview', url);
  const auth = Buffer.from(`${user}:${pass}`).toString('base64');
  let res;
  try {
    res = await httpRequest(target, { headers: { authorization: `Basic ${auth}` } });
  } catch (err) {
    throw new Error(`${err.message} (is the rabbitmq_management plugin enabled?)`);
  }
  if (res.status === 401) throw new Error(`${target.host}: credentials for ${user} rejected (401)`);
  if (res.status !== 200) throw new Error(`${target.host}/api/overview answered HTTP ${res.status}`);
  const overview = JSON.parse(res.body);
  return `${target.host} /api/overview ok: RabbitMQ ${overview.rabbitmq_version}, management ${overview.management_version}`;
}

// RESP: optional AUTH, then PING and INFO server, pipelined on one connection.
async function probeRedis() {
  const ep = endpoints.redis();
  const cmd = (...args) =>
    `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  let request = '';
  if (ep.password !== null) request += ep.user ? cmd('AUTH', ep.user, ep.password) : cmd('AUTH', ep.password);
  request += cmd('PING') + cmd('INFO', 'server');
  const info = await tcpExchange(ep, Buffer.from(request), (buf) => {
    const text = buf.toString('latin1');
    if (text.startsWith('-')) throw new Error(`Redis: ${text.split('\r\n')[0].slice(1)}`);
    const pong = text.indexOf('+PONG\r\n');
    if (pong < 0) {
      if (!/^\+OK\r\n/.test(text) && text.length > 7) throw new Error(`${ep.host}:${ep.port} is not answering like Redis`);
      return undefined;
    }
    const rest = text.slice(pong + 7);
    const m = /^\$(\d+)\r\n/.exec(rest);
    if (!m) return rest.startsWith('-') ? 'INFO refused' : undefined;
    const start = m[0].length;
    if (rest.length < start + Number(m[1])) return undefined;
    return rest.slice(start, start + Number(m[1]));
  });
  const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? 'unknown';
  const major = Number(version.split('.')[0]);
  if (!(major >= 7)) throw new Error(`${ep.host}:${ep.port} is Redis ${version}; Mailroom needs Redis >= 7`);
  return `${ep.host}:${ep.port} PONG, Redis ${version}`;
}

// SQS query API ListQueues, unsigned: ElasticMQ does not verify signatures.
async function probeSqs() {
  const base = endpoints.sqs();
  const res = await httpRequest(new URL('/', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=ListQueues&Version=2012-11-05',
  });
  if (res.status !== 200 || !res.body.includes('ListQueuesResponse')) {
    throw new Error(`${base.host} ListQueues answered HTTP ${res.status}: ${res.body.slice(0, 120)}`);
  }
  const queues = (res.body.match(/<QueueUrl>/g) ?? []).length;
  return `${base.host} ListQueues ok (${queues} queues)`;
}

const probes = {
  kafka: probeKafka,
  sqs: probeSqs,
  amqp: probeAmqp,
  'rabbitmq-mgmt': probeRabbitMgmt,
  redis: probeRedis,
};

function parseArgs(argv) {
  const opts = { waitSeconds: 0, watch: new Map(), json: false, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--wait') opts.waitSeconds = Number(argv[++i]);
    else if (a === '--watch') {
      const [name, pid] = String(argv[++i]).split('=');
      opts.watch.set(name, Number(pid));
    } else if (a === '--json') opts.json = true;
    else if (a in probes) opts.names.push(a);
    else {
      process.stderr.write(`probe.mjs: unknown argument ${a}; probes: ${Object.keys(probes).join(', ')}\n`);
      process.exit(2);
    }
  }
  if (opts.names.length === 0) opts.names = Object.keys(probes);
  return opts;
}

// A broker that died is a zombie until the script that started it reaps it (it is busy
// running this probe), so "kill -0 succeeds" is not enough: look at its state too.
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill -0
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runProbe(name, deadline, watchPid) {
  const started = Date.now();
  let lastError = '';
  for (;;) {
    try {
      const detail = await probes[name]();
      return { name, up: true, detail, ms: Date.now() - started };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (watchPid !== undefined && !pidAlive(watchPid)) {
      return { name, up: false, detail: `process ${watchPid} exited: ${lastError}`, ms: Date.now() - started };
    }
    if (Date.now() + 500 > deadline) return { name, up: false, detail: lastError, ms: Date.now() - started };
    await sleep(500);
  }
}

const opts = parseArgs(process.argv.slice(2));
const deadline = Date.now() + opts.waitSeconds * 1000;
const results = await Promise.all(opts.names.map((n) => runProbe(n, deadline, opts.watch.get(n))));
if (opts.json) {
  process.stdout.write(JSON.stringify(results) + '\n');
} else {
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(14)} ${r.up ? 'up  ' : 'DOWN'}  ${r.detail}\n`);
  }
}
process.exit(results.every((r) => r.up) ? 0 : 1);
