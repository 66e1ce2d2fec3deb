import { useMutation } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useRef } from 'react';
import { Link, Redirect, Route, Switch, useLocation, useRoute } from 'wouter';
import { useConnections } from './api/hooks';
import { SIGN_IN_PATH, setCsrfToken, useSession } from './api/session';
import { useTRPC } from './api/trpc';
import { Icon } from './components/Icon';
import { LoadingRows } from './components/States';
import { useHotkey } from './lib/hotkeys';
import { decodeParam, routes } from './lib/routes';
import { useTheme } from './lib/theme';

const Overview = lazy(() => import('./views/Overview'));
const Destinations = lazy(() => import('./views/Destinations'));
const DestinationPage = lazy(() => import('./views/DestinationPage'));
const MessagePage = lazy(() => import('./views/MessagePage'));
const PublishPage = lazy(() => import('./views/PublishPage'));
const DeadLetters = lazy(() => import('./views/DeadLetters'));
const FitnessPage = lazy(() => import('./views/FitnessPage'));
const SignIn = lazy(() => import('./views/SignIn'));
const Audit = lazy(() => import('./views/Audit'));

export function App() {
  const [location] = useLocation();
  if (location === SIGN_IN_PATH) {
    return (
      <Suspense fallback={<LoadingRows label="Loading sign-in" />}>
        <SignIn />
      </Suspense>
    );
  }
  return (
    <div className="shell">
      <TopBar />
      <Sidebar />
      <main className="main" id="main">
        <Suspense fallback={<div className="page"><LoadingRows label="Loading view" /></div>}>
          <AppRoutes />
        </Suspense>
      </main>
    </div>
  );
}

export function AppRoutes() {
  return (
    <Switch>
      <Route path="/" component={Overview} />
      <Route path="/c/:conn">{(p) => <Redirect to={routes.destinations(decodeParam(p.conn))} replace />}</Route>
      <Route path="/c/:conn/destinations" component={Destinations} />
      <Route path="/c/:conn/publish" component={PublishPage} />
      <Route path="/c/:conn/dead-letters" component={DeadLetters} />
      <Route path="/c/:conn/dead-letters/:dlq" component={DeadLetters} />
      <Route path="/fitness" component={FitnessPage} />
      <Route path="/audit" component={Audit} />
      <Route path="/c/:conn/fitness" component={FitnessPage} />
      <Route path="/c/:conn/d/:dest/m/:id" component={MessagePage} />
      <Route path="/c/:conn/d/:dest/:tab?" component={DestinationPage} />
      <Route>
        <div className="page">
          <h1>Page not found</h1>
          <p className="muted">
            Nothing lives at this address. <Link href="/" className="inline-link">Go to the overview</Link>.
          </p>
        </div>
      </Route>
    </Switch>
  );
}

function TopBar() {
  const { effective, toggle } = useTheme();
  const [, navigate] = useLocation();
  useHotkey('?', () => document.getElementById('shortcuts-help')?.focus());
  useHotkey('g', () => navigate('/'));
  return (
    <header className="topbar">
      <a href="#main" className="sr-only">Skip to content</a>
      <Link href="/" className="brand" aria-label="Mailroom overview">
        <span className="brand-mark" aria-hidden="true">
          <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="#fff" strokeWidth="1.8" strokeLinejoin="round"><path d="M2 4.5h12v8H2zM2 4.5l6 4.5 6-4.5" /></svg>
        </span>
        Mailroom
      </Link>
      <div className="spacer" />
      <span className="hint" id="shortcuts-help" tabIndex={-1}>
        <kbd>/</kbd> search · <kbd>g</kbd> overview · <kbd>↑</kbd><kbd>↓</kbd> rows · <kbd>Enter</kbd> open · <kbd>Esc</kbd> close
      </span>
      <SessionBadge />
      <button type="button" className="btn icon ghost" onClick={toggle} aria-label={effective === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'} title="Toggle theme">
        <Icon name={effective === 'dark' ? 'sun' : 'moon'} />
      </button>
    </header>
  );
}

function Sidebar() {
  const connections = useConnections();
  const [location] = useLocation();
  const [, params] = useRoute('/c/:conn/*?');
  const activeConn = params?.conn === undefined ? null : decodeParam(params.conn);
  const lastConn = useRef<string | null>(null);
  if (activeConn !== null) lastConn.current = activeConn;
  useEffect(() => {
    const c = connections.data?.find((x) => x.id === activeConn);
    document.title = c === undefined ? 'Mailroom' : `${c.name} · Mailroom`;
  }, [connections.data, activeConn]);
  const current = (href: string) => (location === href ? 'page' : undefined);
  return (
    <nav className="sidebar" aria-label="Connections">
      <div className="sidebar-section">
        <Link href="/" className="nav-link" aria-current={current('/')}>
          <Icon name="grid" /> Overview
        </Link>
        <Link href={routes.fitness()} className="nav-link" aria-current={current(routes.fitness())}>
          <Icon name="check" /> Fitness
        </Link>
        <Link href="/audit" className="nav-link" aria-current={current('/audit')}>
          <Icon name="layers" /> Audit log
        </Link>
      </div>
      <div className="sidebar-section">
        <div className="sidebar-title">Connections</div>
        {connections.isPending && <LoadingRows rows={3} label="Loading connections" />}
        {connections.isError && <div className="muted small" style={{ padding: '4px 8px' }}>Server unreachable</div>}
        {connections.data?.length === 0 && <div className="muted small" style={{ padding: '4px 8px' }}>No connections configured</div>}
        {connections.data?.map((c) => {
          const open = c.id === activeConn;
          return (
            <div key={c.id}>
              <Link href={routes.destinations(c.id)} className="nav-link" aria-current={open && location === routes.destinations(c.id) ? 'page' : undefined} title={`${c.kind} · ${c.health.status}${c.health.reason ? `: ${c.health.reason}` : ''}`}>
                <span className={`dot ${c.health.status}`} aria-label={c.health.status} role="img" />
                <span className="grow" style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{c.name}</span>
                <span className="muted small">{c.kind}</span>
              </Link>
              {open && (
                <>
                  <Link href={routes.destinations(c.id)} className="nav-link nav-sub" aria-current={current(routes.destinations(c.id))}>
                    <Icon name="layers" size={14} /> Destinations
                  </Link>
                  <Link href={routes.deadLetters(c.id)} className="nav-link nav-sub" aria-current={location.startsWith(routes.deadLetters(c.id)) ? 'page' : undefined}>
                    <Icon name="inbox" size={14} /> Dead letters
                  </Link>
                  <Link href={routes.fitness(c.id)} className="nav-link nav-sub" aria-current={current(routes.fitness(c.id))}>
                    <Icon name="check" size={14} /> Fitness
                  </Link>
                  <Link href={routes.publish(c.id)} className="nav-link nav-sub" aria-current={current(routes.publish(c.id))}>
                    <Icon name="send" size={14} /> Publish
                    {c.readOnly && <Icon name="lock" size={12} label="read-only" />}
                  </Link>
                </>
              )}
            </div>
          );
        })}
      </div>
    </nav>
  );
}

/** Who is signed in, with sign-out; nothing for anonymous loopback access or an older server. */
function SessionBadge() {
  const trpc = useTRPC();
  const session = useSession();
  const signOut = useMutation(
    trpc.session.signOut.mutationOptions({
      onSettled: () => {
        setCsrfToken(null);
        window.location.assign(SIGN_IN_PATH);
      },
    }),
  );
  const user = session.data?.user;
  if (!user || user.via === 'anonymous') return null;
  return (
    <span className="row small" style={{ gap: 8 }}>
      <span className="muted" title={`signed in with ${user.via === 'oidc' ? 'single sign-on' : 'a Mailroom account'}`}>{user.name}</span>
      <button type="button" className="btn sm ghost" onClick={() => signOut.mutate()} disabled={signOut.isPending}>Sign out</button>
    </span>
  );
}
