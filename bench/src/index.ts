export { loadConfig, scaled, BENCHMARKS, BROKERS, type BenchConfig, type Broker, type BenchmarkId } from './config';
export { percentile, median, perSecond } from './stats';
export type { BenchRow, BenchResults } from './report';
