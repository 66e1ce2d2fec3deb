import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useSearch } from 'wouter';
import { returnToFrom, setCsrfToken, useSession } from '../api/session';
import { useTRPC } from '../api/trpc';
import { Alert } from '../components/States';

/**
 * The sign-in page: local accounts (user name and password) and, when configured, OpenID
 * Connect. The server sets an HttpOnly, SameSite=Strict session cookie; this page only keeps the
 * CSRF token the answer carries.
 */
export default function SignIn() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const search = useSearch();
  const returnTo = returnToFrom(search);
  const oidcError = new URLSearchParams(search).get('error');
  const session = useSession();
  const ids = { user: useId(), password: useId() };
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation(
    trpc.session.signIn.mutationOptions({
      onSuccess: async ({ csrfToken }) => {
        setCsrfToken(csrfToken);
        queryClient.clear();
        // A full navigation: every view starts again with the new session.
        window.location.assign(returnTo);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (username.trim() === '' || password === '' || signIn.isPending) return;
    signIn.mutate({ username: username.trim(), password });
  };
  const ways = session.data?.signIn;
  const signedIn = session.data?.user ?? null;

  return (
    <main className="signin-page" id="main" style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', padding: 24 }}>
      <section className="card" aria-labelledby="signin-title" style={{ width: 'min(380px, 100%)' }}>
        <div className="card-header">
          <h1 id="signin-title" style={{ fontSize: 18, margin: 0 }}>Sign in to Mailroom</h1>
        </div>
        <div className="card-body stack">
          {signedIn !== null && (
            <Alert tone="info" title={`Signed in as ${signedIn.name}`}>
              <a href={returnTo}>Continue</a>, or sign in as someone else below.
            </Alert>
          )}
          {oidcError !== null && <Alert tone="danger" title="Single sign-on failed">{oidcError}</Alert>}
          {signIn.isError && (
            <Alert tone="danger" title={signIn.error.data?.code === 'TOO_MANY_REQUESTS' ? 'Too many attempts' : 'Not signed in'}>
              {signIn.error.message}
            </Alert>
          )}
          {ways?.generatedPassword && (
            <p className="small muted">
              This server runs without configured accounts: sign in as <code>admin</code> with the password it printed when it started (the
              line beginning <code>sign-in:</code> in its log). Configure <code>auth.users</code> to keep accounts across restarts.
            </p>
          )}
          {(ways === undefined || ways.password) && (
            <form className="stack" onSubmit={submit} aria-label="Sign in with a Mailroom account">
              <div className="field">
                <label htmlFor={ids.user}>User name</label>
                <input id={ids.user} className="input" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={100} />
              </div>
              <div className="field">
                <label htmlFor={ids.password}>Password</label>
                <input id={ids.password} className="input" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required maxLength={1000} />
              </div>
              <button type="submit" className="btn primary" disabled={signIn.isPending}>
                {signIn.isPending ? 'Signing in…' : 'Sign in'}
              </button>
            </form>
          )}
          {ways?.oidc && (
            <a className="btn" href={`${ways.oidc.startUrl}?returnTo=${encodeURIComponent(returnTo)}`}>
              {ways.oidc.label}
            </a>
          )}
          {ways !== undefined && !ways.password && ways.oidc === null && (
            <p className="muted">No way to sign in is configured on this server: ask its operator to add <code>auth.users</code> or <code>auth.oidc</code> to the Mailroom config.</p>
          )}
          {ways?.anonymous && <p className="muted small">Clients on this machine can also use Mailroom without signing in.</p>}
        </div>
      </section>
    </main>
  );
}
