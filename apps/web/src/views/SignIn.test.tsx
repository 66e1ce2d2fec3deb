import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderApp } from '../test/harness';

const me = (signIn: { password: boolean; oidc: null; anonymous: boolean; generatedPassword: boolean }) => () => ({ user: null, csrfToken: null, readOnly: false, connections: [], signIn });

describe('SignIn', () => {
  it('tells an operator on a server without accounts where the generated admin password is', async () => {
    renderApp('/signin', { 'session.me': me({ password: true, oidc: null, anonymous: false, generatedPassword: true }) });
    expect(await screen.findByRole('form', { name: 'Sign in with a Mailroom account' })).toBeTruthy();
    const hint = await screen.findByText(/password it printed when it started/);
    expect(hint.textContent).toContain('sign in as admin with the password it printed when it started (the line beginning sign-in: in its log)');
  });

  it('says nothing of a generated password where accounts are configured', async () => {
    renderApp('/signin', { 'session.me': me({ password: true, oidc: null, anonymous: false, generatedPassword: false }) });
    expect(await screen.findByRole('form', { name: 'Sign in with a Mailroom account' })).toBeTruthy();
    expect(screen.queryByText(/password it printed when it started/)).toBeNull();
  });
});
