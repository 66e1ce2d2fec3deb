// The one place the web names the server's router type (type-only: no server code is bundled).
export type { AppRouter } from '@mailroom/server/router';
