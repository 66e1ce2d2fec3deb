import { useEffect, useRef } from 'react';

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}

/**
 * A single-key shortcut (e.g. '/', 'g', 'Escape') that is ignored while the operator types in
 * a field, except Escape. Modifier combos are left to the browser.
 */
export function useHotkey(key: string, handler: (e: KeyboardEvent) => void, enabled = true): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== key || e.ctrlKey || e.metaKey || e.altKey) return;
      if (key !== 'Escape' && isTyping(e.target)) return;
      // Space on a focused control activates that control, not the page shortcut.
      if (key === ' ' && e.target instanceof HTMLElement && e.target.closest('button, a, [role="grid"], [tabindex]') !== null) return;
      ref.current(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [key, enabled]);
}
