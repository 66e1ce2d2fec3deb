import { cleanup, configure } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

// jsdom has no layout: give scroll containers of virtualised lists a viewport-sized box so
// @tanstack/react-virtual renders the rows a browser would show (and only those).
for (const [prop, size] of [['offsetHeight', 600], ['offsetWidth', 1000], ['clientHeight', 600], ['clientWidth', 1000]] as const) {
  const original = Object.getOwnPropertyDescriptor(HTMLElement.prototype, prop) ?? Object.getOwnPropertyDescriptor(Element.prototype, prop);
  Object.defineProperty(HTMLElement.prototype, prop, {
    configurable: true,
    get(this: HTMLElement) {
      if (this.classList.contains('vtable-body')) return size;
      return original?.get?.call(this) ?? 0;
    },
  });
}

// Route chunks load lazily; on a busy 2-core machine (load 20 with other suites running) a render can take seconds.
configure({ asyncUtilTimeout: 10_000 });

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});

// "Nothing in the browser console on a normal session": any React warning or logged error
// during a test fails it.
const logged: string[] = [];
beforeEach(() => {
  logged.length = 0;
  for (const level of ['error', 'warn'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(`console.${level}: ${args.map(String).join(' ')}`);
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  if (logged.length > 0) throw new Error(`The app logged to the console:\n${logged.join('\n')}`);
});
