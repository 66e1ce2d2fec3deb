import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

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

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});
