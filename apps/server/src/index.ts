export { createApp, type CreateAppOptions, type MailroomApp } from './app';
export { loadSettings, connectionsFromEnv, MEMORY_CONNECTION_ID, type SettingsOverrides } from './config/load';
export type { ServerSettings, TailSettings } from './config/settings';
export type { ConnectionConfig } from './config/schema';
export { ADAPTER_FACTORIES, knownKinds, type AdapterFactory } from './connections/adapter-registry';
export { appRouter, createCaller, type AppRouter } from './router';
export { toTRPCError, TRPC_CODE_FOR, redactSecrets } from './errors';
