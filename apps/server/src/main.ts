import { createApp } from './app';
import { describeAccess } from './security/settings';

async function main(): Promise<void> {
  const app = await createApp();
  const { url } = await app.listen();
  const names = app.settings.connections.map((c) => `${c.id} (${c.kind})`).join(', ') || 'none';
  console.log(`Mailroom is running at ${url}`);
  console.log(`  connections: ${names}`);
  console.log(`  data dir:    ${app.settings.dataDir}`);
  console.log(`  metrics:     ${url}/metrics`);
  for (const line of describeAccess(app.settings.security.auth, url)) console.log(line);
  if (app.settings.security.readOnly) console.log('  read-only:   every change is refused (readOnly / MAILROOM_GLOBAL_READ_ONLY)');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}, shutting down (running redrives resume on the next start)...`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`Mailroom could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
