import { Router, type Request, type Response } from 'express';
import type { TRPCError } from '@trpc/server';
import { auditToCsv, type AuditQuery } from '../audit/audit-log';
import { auditVisibility } from '../audit/visibility';
import { checkOrigin } from '../security/guard';
import type { Services } from '../services';
import { parseCookies, serializeCookie } from './cookies';
import { httpFacts, requestFacts } from './http-context';
import { OIDC_STATE_COOKIE, OidcError, OidcSignIn, safeReturnTo } from './oidc';
import { roleOn, type RoleGrants } from './roles';

function hasAnyRole(grants: RoleGrants, connectionIds: string[]): boolean {
  return connectionIds.some((id) => roleOn(grants, id) !== null) || Object.values(grants).some((r) => r !== 'none');
}

const one = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, 300) : undefined);

/** Express routes of sign-in (OpenID Connect redirects) and the audit export download. */
export function authRoutes(services: Services): Router {
  const routes = Router();
  const { auth, audit } = services;
  const oidcSettings = services.settings.security.auth.oidc;
  const oidc = oidcSettings ? new OidcSignIn(oidcSettings) : null;

  const failSignIn = (req: Request, res: Response, message: string, user: string) => {
    audit.record({ user, via: 'oidc', sessionId: null, ip: req.ip ?? null, action: 'auth.signIn', connectionId: null, destination: null, detail: 'oidc', count: null, result: 'refused', error: message });
    res.redirect(303, `/signin?error=${encodeURIComponent(message)}`);
  };

  routes.get('/auth/oidc/start', async (req, res) => {
    if (!oidc) return res.status(404).json({ error: 'OpenID Connect is not configured' });
    try {
      const { url, state } = await oidc.start(safeReturnTo(req.query.returnTo));
      // Lax, not Strict: the provider's redirect back is a cross-site navigation.
      res.append('set-cookie', serializeCookie(OIDC_STATE_COOKIE, state, { secure: auth.secureFor(requestFacts(req)), sameSite: 'Lax', path: '/auth/oidc', maxAgeSeconds: 600 }));
      res.setHeader('cache-control', 'no-store');
      return res.redirect(302, url);
    } catch (error) {
      return failSignIn(req, res, error instanceof Error ? error.message : String(error), '(unknown)');
    }
  });

  routes.get('/auth/oidc/callback', async (req, res) => {
    if (!oidc) return res.status(404).json({ error: 'OpenID Connect is not configured' });
    const facts = requestFacts(req);
    const browserState = parseCookies(facts.cookieHeader).get(OIDC_STATE_COOKIE) ?? null;
    res.append('set-cookie', serializeCookie(OIDC_STATE_COOKIE, '', { secure: auth.secureFor(facts), sameSite: 'Lax', path: '/auth/oidc', maxAgeSeconds: 0 }));
    res.setHeader('cache-control', 'no-store');
    const query = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
    let result;
    try {
      result = await oidc.finish(query, browserState);
    } catch (error) {
      const message = error instanceof OidcError ? error.message : `the sign-in failed: ${error instanceof Error ? error.message : String(error)}`;
      return failSignIn(req, res, message, '(unknown)');
    }
    if (!hasAnyRole(result.grants, services.connections.all().map((c) => c.id))) {
      return failSignIn(req, res, `${result.user} has no Mailroom role (ask for one of the groups in auth.oidc.roleMapping)`, result.user);
    }
    const { principal, setCookie } = auth.startSession(result.user, 'oidc', result.grants, facts);
    res.append('set-cookie', setCookie);
    audit.record({ user: principal.user, via: 'oidc', sessionId: principal.sessionId, ip: req.ip ?? null, action: 'auth.signIn', connectionId: null, destination: null, detail: 'oidc', count: null, result: 'ok', error: null });
    return res.redirect(303, result.returnTo);
  });

  routes.get('/api/audit/export', (req, res) => {
    const facts = httpFacts(req, res);
    try {
      checkOrigin(facts, services.settings.security.http.allowedOrigins);
    } catch (error) {
      return res.status(403).json({ error: (error as TRPCError).message });
    }
    const principal = auth.principalFor(facts.request);
    if (!principal) return res.status(401).json({ error: 'Sign in first.' });
    const format = req.query.format === 'csv' ? 'csv' : 'json';
    const result = one(req.query.result);
    const query: AuditQuery = {
      connectionId: one(req.query.connectionId),
      action: one(req.query.action),
      user: one(req.query.user),
      result: result === 'ok' || result === 'refused' || result === 'failed' ? result : undefined,
      since: one(req.query.since),
      until: one(req.query.until),
      search: one(req.query.search),
    };
    const entries = audit.select(query, auditVisibility(principal, services.connections.all().map((c) => c.id)));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-disposition', `attachment; filename="mailroom-audit-${stamp}.${format}"`);
    if (format === 'csv') return res.type('text/csv; charset=utf-8').send(auditToCsv(entries));
    return res.type('application/json').send(JSON.stringify(entries, null, 2));
  });

  return routes;
}
