import { useCallback, useEffect, useState } from 'react';

export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'mailroom.theme';

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function systemPrefersDark(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The one place the page's colours are chosen: styles.css keys its dark variables on data-theme. */
export function applyTheme(effective: 'light' | 'dark'): void {
  document.documentElement.dataset.theme = effective;
}

/** The theme follows prefers-color-scheme until the operator picks one; the pick is remembered. */
export function useTheme(): { choice: ThemeChoice; effective: 'light' | 'dark'; toggle: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(readChoice);
  const [systemDark, setSystemDark] = useState(systemPrefersDark);

  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return;
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setSystemDark(mq.matches);
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);

  const effective = choice === 'system' ? (systemDark ? 'dark' : 'light') : choice;
  useEffect(() => applyTheme(effective), [effective]);

  const toggle = useCallback(() => {
    const next = effective === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
    setChoice(next);
  }, [effective]);
  return { choice, effective, toggle };
}
