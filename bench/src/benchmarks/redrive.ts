import type { BenchContext } from '../context';
export async function runRedrive(_ctx: BenchContext): Promise<void> {}
