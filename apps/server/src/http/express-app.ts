import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { httpFacts } from '../auth/http-context';
import { authRoutes } from '../auth/http-routes';
import { consumerStatsRoutes } from '../fitness/consumer-stats-routes';
import { appRouter } from '../router';
import { contentSecurityPolicy, inlineScriptHashes, securityHeaders } from '../security/headers';
import type { Services } from '../services';

export interface HttpOptions {
  services: Services;
  /** Set once startup finished (config loaded, stored redrive tasks resumed). */
  isStarted: () => boolean;
  onError?: (path: string | undefined, error: unknown) => void;
}

/** The HTTP surface: /trpc (queries, mutations, SSE subscriptions), /metrics, /healthz, /readyz and the SPA. */
export function createExpressApp({ services, isStarted, onError }: HttpOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const { security } = services.settings;
  if (security.http.trustProxy !== undefined) app.set('trust proxy', security.http.trustProxy);
  const spaIndex = services.settings.webDist ? path.join(services.settings.webDist, 'index.html') : null;
  const spaHtml = spaIndex && existsSync(spaIndex) ? readFileSync(spaIndex, 'utf8') : '';
  app.use(securityHeaders(contentSecurityPolicy(inlineScriptHashes(spaHtml))));
  app.use(authRoutes(services));
  app.use(consumerStatsRoutes(services));

  // tRPC reports an over-long streamed body as a parse error; a declared length gets a plain 413 first.
  app.use('/trpc', (req: Request, res: Response, next: NextFunction) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > security.limits.maxRequestBytes) {
      res.status(413).json({ error: { message: `The request body is ${length} bytes; at most ${security.limits.maxRequestBytes} are accepted (limits.maxRequestBytes)`, code: -32600, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } });
      req.resume();
      return;
    }
    next();
  });
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: ({ req, res }) => {
        const http = httpFacts(req, res);
        return { services, principal: services.auth.principalFor(http.request), http };
      },
      maxBodySize: security.limits.maxRequestBytes,
      onError({ error, path: procedure }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') onError?.(procedure, error.cause ?? error);
      },
    }),
  );

  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await services.metrics.render();
    res.setHeader('content-type', contentType);
    res.setHeader('cache-control', 'no-store');
    res.send(body);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  app.get('/readyz', (_req, res) => {
    const connections = services.connections.list().map((c) => ({ id: c.id, status: c.health.status, reason: c.health.reason }));
    const memory = connections.find((c) => c.id === 'memory');
    // Ready: startup finished and the embedded connection answers (or, without it, any connection does).
    const ready = isStarted() && (memory ? memory.status === 'up' : connections.length === 0 || connections.some((c) => c.status === 'up'));
    res.status(ready ? 200 : 503).json({ ready, configLoaded: true, configPath: services.settings.configPath, connections });
  });

  const dist = services.settings.webDist;
  if (dist && existsSync(path.join(dist, 'index.html'))) {
    const indexHtml = path.join(dist, 'index.html');
    app.use(express.static(dist, { index: false, maxAge: '1h', setHeaders: (res, file) => {
      if (path.basename(file) === 'index.html') res.setHeader('cache-control', 'no-cache');
    } }));
    // Client-side routes get the SPA shell: every GET a browser navigates to (Accept: text/html),
    // dotted names included (/c/memory/d/orders.dlq). Assets, the API and the server's own
    // endpoints get a real 404, and so does a file-like path that a page did not navigate to.
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      if (/^\/(assets|trpc|metrics|healthz|readyz|auth|api)(\/|$)/.test(req.path)) return next();
      const navigation = /(^|[,\s])text\/html([;,\s]|$)/i.test(req.get('accept') ?? '');
      if (!navigation && (path.extname(req.path) !== '' || !req.accepts('html'))) return next();
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(indexHtml);
    });
  } else {
    app.get('/', (_req, res) => {
      res
        .type('text/plain')
        .send(`Mailroom server is running. The web app is not built (${dist ?? 'no web dist configured'}): run \`pnpm --filter @mailroom/web build\`. API: /trpc, metrics: /metrics.\n`);
    });
  }

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
