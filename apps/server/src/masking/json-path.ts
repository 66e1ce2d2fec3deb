import { InvalidInputError } from '@mailroom/core';

/** One step of a masking JSON path. */
export type PathStep = { kind: 'key'; name: string } | { kind: 'index'; index: number } | { kind: 'any' } | { kind: 'deep'; name: string };

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/**
 * Parses the JSONPath subset masking rules use: `$.a.b`, `$['a b']`, `$.list[0]`, `$.list[*].x`,
 * `$.*`, and `$..name` (the key `name` at any depth). Nothing is evaluated.
 */
export function parseJsonPath(path: string): PathStep[] {
  if (!path.startsWith('$')) throw new InvalidInputError(`JSON path ${JSON.stringify(path)} must start with $`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    if (rest.startsWith('..')) {
      const m = NAME.exec(rest.slice(2));
      if (!m) throw new InvalidInputError(`JSON path ${JSON.stringify(path)}: expected a name after ".." at ${i}`);
      steps.push({ kind: 'deep', name: m[0] });
      i += 2 + m[0].length;
    } else if (rest.startsWith('.*')) {
      steps.push({ kind: 'any' });
      i += 2;
    } else if (rest.startsWith('.')) {
      const m = NAME.exec(rest.slice(1));
      if (!m) throw new InvalidInputError(`JSON path ${JSON.stringify(path)}: expected a name after "." at ${i}`);
      steps.push({ kind: 'key', name: m[0] });
      i += 1 + m[0].length;
    } else if (rest.startsWith('[*]')) {
      steps.push({ kind: 'any' });
      i += 3;
    } else if (/^\[\d+\]/.test(rest)) {
      const m = /^\[(\d+)\]/.exec(rest)!;
      steps.push({ kind: 'index', index: Number(m[1]) });
      i += m[0].length;
    } else if (/^\[(['"])/.test(rest)) {
      const quote = rest[1]!;
      const end = rest.indexOf(`${quote}]`, 2);
      if (end < 0) throw new InvalidInputError(`JSON path ${JSON.stringify(path)}: unterminated quoted name at ${i}`);
      steps.push({ kind: 'key', name: rest.slice(2, end) });
      i += end + 2;
    } else {
      throw new InvalidInputError(`JSON path ${JSON.stringify(path)}: unexpected ${JSON.stringify(rest[0])} at ${i}`);
    }
  }
  if (steps.length === 0) throw new InvalidInputError(`JSON path ${JSON.stringify(path)} selects the whole value; name a field`);
  return steps;
}

const MAX_DEPTH = 64;

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** Replaces an own property only (never a prototype's), as a plain data property. */
function replaceOwn(container: Record<string, unknown> | unknown[], key: string | number, replacement: string): boolean {
  if (!Object.prototype.hasOwnProperty.call(container, key)) return false;
  Object.defineProperty(container, key, { value: replacement, writable: true, enumerable: true, configurable: true });
  return true;
}

/** Masks what `steps` selects in `root` (a JSON.parse result) in place; returns how many values. */
export function maskPath(root: unknown, steps: PathStep[], replacement: string): number {
  const walk = (node: unknown, at: number, depth: number): number => {
    if (!isContainer(node) || depth > MAX_DEPTH) return 0;
    const step = steps[at]!;
    const last = at === steps.length - 1;
    const visit = (key: string | number): number => {
      if (last) return replaceOwn(node, key, replacement) ? 1 : 0;
      return Object.prototype.hasOwnProperty.call(node, key) ? walk((node as Record<string | number, unknown>)[key], at + 1, depth + 1) : 0;
    };
    switch (step.kind) {
      case 'key':
        return Array.isArray(node) ? 0 : visit(step.name);
      case 'index':
        return Array.isArray(node) ? visit(step.index) : 0;
      case 'any':
        return (Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node)).reduce<number>((n, k) => n + visit(k), 0);
      case 'deep': {
        let n = 0;
        for (const key of Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node)) {
          if (key === step.name) n += visit(key);
          // Keep searching below (a masked value is a string by now, so nothing happens there).
          n += walk((node as Record<string | number, unknown>)[key], at, depth + 1);
        }
        return n;
      }
    }
  };
  return walk(root, 0, 0);
}
