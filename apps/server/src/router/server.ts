import type { TailSettings } from '../config/settings';
import { publicProcedure, router } from './trpc';

export interface ServerInfo {
  version: string;
  production: boolean;
  /** Bounds of the live tail, for the UI to explain skipped counts and resume limits. */
  tail: TailSettings;
  destinationsCacheTtlMs: number;
  metricsIntervalMs: number;
}

export const serverRouter = router({
  info: publicProcedure.query(({ ctx }): ServerInfo => {
    const { settings } = ctx.services;
    return { version: '0.1.0', production: settings.production, tail: settings.tail, destinationsCacheTtlMs: settings.destinationsCacheTtlMs, metricsIntervalMs: settings.metricsIntervalMs };
  }),
});
