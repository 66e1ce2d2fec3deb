import type { BenchContext } from '../context';
export async function runListing(_ctx: BenchContext): Promise<void> {}
