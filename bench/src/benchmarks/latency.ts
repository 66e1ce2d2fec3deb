import type { BenchContext } from '../context';
export async function runLatency(_ctx: BenchContext): Promise<void> {}
