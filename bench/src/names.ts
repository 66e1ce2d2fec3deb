import { randomBytes } from 'node:crypto';

/** Unique per run and per benchmark, so runs never see each other's destinations. */
export function uniqueName(label: string): string {
  return `mr-bench-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
