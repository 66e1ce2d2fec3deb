import type { BenchContext } from '../context';
export async function runWeb(_ctx: BenchContext): Promise<void> {}
