import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { procedure, router } from '../router/trpc';
import { visibleConnections } from './visible';

export interface SessionInfo {
  /** Null: nobody is signed in (the web app shows the sign-in page). */
  user: { name: string; via: 'password' | 'oidc' | 'anonymous' | 'system' } | null;
  /** Send it as x-mailroom-csrf on every mutation (null without a session: any non-empty value). */
  csrfToken: string | null;
  /** Every change is refused server-wide. */
  readOnly: boolean;
  /** The caller's role per visible connection, and whether changes are refused there. */
  connections: { id: string; role: 'viewer' | 'operator' | 'admin'; readOnly: boolean; readOnlyReason: string | null }[];
  /** How one can sign in here. */
  /** How one can sign in here; `generatedPassword`: the only account is `admin`, its password printed in the startup log. */
  signIn: { password: boolean; oidc: { label: string; startUrl: string } | null; anonymous: boolean; generatedPassword: boolean };
}

export const sessionRouter = router({
  /** Who the caller is and what they may do per connection; answers without sign-in too. */
  me: procedure({ role: null, public: true }).query(({ ctx }): SessionInfo => {
    const { settings } = ctx.services;
    const auth = settings.security.auth;
    const p = ctx.principal;
    return {
      user: p ? { name: p.user, via: p.via } : null,
      csrfToken: p?.csrfToken ?? null,
      readOnly: settings.security.readOnly,
      connections: p
        ? visibleConnections(ctx, ctx.services.connections.list()).map((c) => ({ id: c.id, role: c.role!, readOnly: c.readOnly, readOnlyReason: c.readOnlyReason }))
        : [],
      signIn: {
        password: auth.users.length > 0,
        oidc: auth.oidc ? { label: auth.oidc.label, startUrl: '/auth/oidc/start' } : null,
        anonymous: auth.anonymous !== null,
        generatedPassword: auth.mode === 'generated-admin',
      },
    };
  }),

  /** Local account sign-in: sets the HttpOnly, SameSite=Strict session cookie. */
  signIn: procedure({ role: null, public: true })
    .input(z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) }))
    .mutation(async ({ ctx, input }): Promise<{ user: string; csrfToken: string }> => {
      const http = ctx.http;
      if (!http) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Sign-in needs an HTTP request' });
      const { user, grants } = await ctx.services.auth.verifyLocal(input.username, input.password, http.ip);
      const { principal, setCookie } = ctx.services.auth.startSession(user, 'password', grants, http.request);
      http.setCookie(setCookie);
      ctx.services.audit.record({ user, via: 'password', sessionId: principal.sessionId, ip: http.ip, action: 'auth.signIn', connectionId: null, destination: null, detail: 'password', count: null, result: 'ok', error: null });
      return { user, csrfToken: principal.csrfToken! };
    }),

  /** Ends the session and clears the cookie; the guard audits it (a refused sign-out too). */
  signOut: procedure({ role: null, public: true, action: 'auth.signOut' }).mutation(({ ctx }): { ok: true } => {
    const http = ctx.http;
    if (http) for (const cookie of ctx.services.auth.endSession(http.request)) http.setCookie(cookie);
    return { ok: true };
  }),
});
