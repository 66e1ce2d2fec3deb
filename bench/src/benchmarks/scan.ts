import type { BenchContext } from '../context';
export async function runScan(_ctx: BenchContext): Promise<void> {}
