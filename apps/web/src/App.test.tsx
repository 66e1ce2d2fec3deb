import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection } from './test/fixtures';
import { renderApp } from './test/harness';

const base = { 'connections.list': () => [connection()], 'connections.health': async function* () {}, 'destinations.list': () => ({ items: [], total: 0, fetchedAt: '' }) };

describe('App shell', () => {
  it('toggles the theme and remembers the choice', async () => {
    renderApp('/', base);
    const toggle = await screen.findByRole('button', { name: 'Switch to dark theme' });
    fireEvent.click(toggle);
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem('mailroom.theme')).toBe('dark');
    fireEvent.click(screen.getByRole('button', { name: 'Switch to light theme' }));
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('follows the system theme until the operator picks one', async () => {
    localStorage.removeItem('mailroom.theme');
    const original = window.matchMedia;
    window.matchMedia = ((query: string) => ({ matches: query === '(prefers-color-scheme: dark)', media: query, addEventListener: () => undefined, removeEventListener: () => undefined })) as unknown as typeof window.matchMedia;
    try {
      renderApp('/', base);
      expect(await screen.findByRole('button', { name: 'Switch to light theme' })).toBeTruthy();
      expect(document.documentElement.dataset.theme).toBe('dark');
    } finally {
      window.matchMedia = original;
    }
  });

  it('has a page for unknown addresses', async () => {
    renderApp('/nope/at/all', base);
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeTruthy();
  });

  it('redirects a connection URL to its destinations and lists connections with health', async () => {
    const { location } = renderApp('/c/memory', base);
    await waitFor(() => expect(location.history.at(-1)).toBe('/c/memory/destinations'));
    const nav = screen.getByRole('navigation', { name: 'Connections' });
    await waitFor(() => expect(nav.textContent).toContain('Demo'));
    expect(nav.querySelector('[role="img"][aria-label="up"]')).not.toBeNull();
  });

  it('`g` goes to the overview from anywhere', async () => {
    const { location } = renderApp('/c/memory/destinations', base);
    await screen.findByText('No destinations yet');
    fireEvent.keyDown(document.body, { key: 'g' });
    await waitFor(() => expect(location.history.at(-1)).toBe('/'));
  });
});
