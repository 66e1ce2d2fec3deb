import type { BenchContext } from '../context';
export async function runPublish(_ctx: BenchContext): Promise<void> {}
