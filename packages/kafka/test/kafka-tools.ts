import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fetchScript = fileURLToPath(new URL('../tools/fetch-tools.sh', import.meta.url));

export interface ToolRow {
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
  consumerId: string | null;
}

const numberOrNull = (text: string | undefined) => (text === undefined || text === '-' ? null : Number(text));

/**
 * Kafka's own `kafka-consumer-groups.sh --describe --group G` (ConsumerGroupCommand from the
 * kafka-tools jar of the broker's version, fetched once from Maven Central), parsed.
 */
export async function describeWithKafkaTool(bootstrap: string, group: string): Promise<ToolRow[]> {
  const { stdout: dir } = await run('bash', [fetchScript], { timeout: 600_000 });
  const { stdout } = await run(
    'java',
    ['-cp', `${dir.trim()}/*`, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', '--bootstrap-server', bootstrap, '--describe', '--group', group],
    { timeout: 60_000 },
  );
  const rows: ToolRow[] = [];
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] !== group || cols.length < 6) continue;
    rows.push({
      topic: cols[1] ?? '',
      partition: Number(cols[2]),
      currentOffset: numberOrNull(cols[3]),
      logEndOffset: numberOrNull(cols[4]),
      lag: numberOrNull(cols[5]),
      consumerId: cols[6] === undefined || cols[6] === '-' ? null : cols[6],
    });
  }
  return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
