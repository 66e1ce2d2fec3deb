/**
 * A Mailroom server in its own process for test/redrive-restart.test.ts: it starts one redrive of a
 * Redis DLQ, prints `{"taskId": ...}` on a line and keeps running until the test kills it (SIGKILL,
 * so nothing of close() runs). Arguments: dataDir, Redis URL, source stream, rate per second.
 */
import { testApp } from './helpers';

const [dataDir, redisUrl, source, rate] = process.argv.slice(2);
if (!dataDir || !redisUrl || !source || !rate) throw new Error('usage: redrive-restart-child.ts <dataDir> <redisUrl> <source> <ratePerSecond>');

const app = await testApp({ dataDir, connections: [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: redisUrl } }] });
const task = await app.caller.redrive.start({ connectionId: 'redis', source, target: null, ratePerSecond: Number(rate) });
process.stdout.write(`${JSON.stringify({ taskId: task.id })}\n`);
// The app's own timers keep the process alive; this one makes sure it waits for the kill.
setInterval(() => undefined, 60_000);
