import { utf8, type Message, type MessageConsumer, type ReceivedMessage } from '@mailroom/core';

export function msg(value: string, key: string | null = null, headers: Record<string, string> = {}): Message {
  return { key, value: utf8(value), headers, timestamp: new Date() };
}

export function text(m: { value: Uint8Array }): string {
  return new TextDecoder().decode(m.value);
}

export async function drain(consumer: MessageConsumer, expected: number, commit = true, deadlineMs = 2000): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const deadline = Date.now() + deadlineMs;
  while (out.length < expected && Date.now() < deadline) {
    const batch = await consumer.poll(50);
    out.push(...batch);
    if (commit && batch.length > 0) await consumer.commit();
  }
  return out;
}

export function memoryCheckpoint() {
  const store = {
    state: undefined as unknown,
    saves: 0,
    load: async () => store.state,
    save: async (state: unknown) => {
      store.saves++;
      store.state = structuredClone(state);
    },
  };
  return store;
}
