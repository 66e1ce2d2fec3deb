import { RE2JS } from 're2js';
import { InvalidInputError, type StoredMessage } from '@mailroom/core';
import { matchesGlob } from '../auth/roles';
import type { MaskingRuleConfig } from '../security/config';
import { maskPath, parseJsonPath, type PathStep } from './json-path';

/** A stored message after masking; `masked` says whether any rule changed it. */
export type MaskedMessage = StoredMessage & { masked: boolean };

/** Applies the masking rules of one connection; every message leaving the server goes through one. */
export type MessageMask = (message: StoredMessage) => MaskedMessage;

interface CompiledRule {
  connection: string;
  destination: string;
  headers: string[];
  paths: PathStep[][];
  patterns: RE2JS[];
  key: boolean;
  replacement: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** JSON paths are applied to values up to this size (browse returns at most 4 MiB). */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

function decodeText(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Masking rules from the config: by header name, by JSON path and by regular expression (RE2:
 * linear time, so a rule cannot stall the server). A rule applies to a message when its
 * connection glob matches and its destination glob matches the message's destination or the
 * origin it was dead-lettered from.
 */
export class Masker {
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, CompiledRule[]>();

  constructor(rules: MaskingRuleConfig[]) {
    this.rules = rules.map((rule, i) => {
      const patterns = rule.patterns.map((p) => {
        try {
          return RE2JS.compile(p.pattern, p.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
        } catch (error) {
          throw new InvalidInputError(`masking[${i}].patterns: ${JSON.stringify(p.pattern)} is not a valid RE2 regular expression: ${(error as Error).message}`);
        }
      });
      return {
        connection: rule.connection,
        destination: rule.destination,
        headers: rule.headers.map((h) => h.toLowerCase()),
        paths: rule.jsonPaths.map((p) => parseJsonPath(p)),
        patterns,
        key: rule.key,
        replacement: rule.replacement,
      };
    });
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  private rulesFor(connectionId: string, destination: string): CompiledRule[] {
    const cacheKey = `${connectionId}\u0000${destination}`;
    let found = this.cache.get(cacheKey);
    if (!found) {
      found = this.rules.filter((r) => matchesGlob(r.connection, connectionId) && matchesGlob(r.destination, destination));
      if (this.cache.size > 50_000) this.cache.clear();
      this.cache.set(cacheKey, found);
    }
    return found;
  }

  /** The mask of one connection. */
  forConnection(connectionId: string): MessageMask {
    return (message) => this.mask(connectionId, message);
  }

  mask(connectionId: string, message: StoredMessage): MaskedMessage {
    if (this.rules.length === 0) return { ...message, masked: false };
    const rules = [...this.rulesFor(connectionId, message.destination)];
    const origin = message.deadLetter?.origin;
    if (origin) for (const r of this.rulesFor(connectionId, origin)) if (!rules.includes(r)) rules.push(r);
    if (rules.length === 0) return { ...message, masked: false };

    let masked = false;
    let headers = message.headers;
    let properties = message.properties;
    let key = message.key;
    let value = message.value;
    const replaceText = (text: string, rule: CompiledRule): string => {
      let out = text;
      for (const pattern of rule.patterns) out = pattern.matcher(out).replaceAll(() => rule.replacement);
      return out;
    };
    const maskBag = (bag: Record<string, string>, rule: CompiledRule): Record<string, string> => {
      let out = bag;
      for (const [name, v] of Object.entries(bag)) {
        const lower = name.toLowerCase();
        let next = rule.headers.some((h) => matchesGlob(h, lower)) ? rule.replacement : v;
        if (rule.patterns.length > 0) next = replaceText(next, rule);
        if (next !== v) {
          if (out === bag) out = { ...bag };
          Object.defineProperty(out, name, { value: next, writable: true, enumerable: true, configurable: true });
        }
      }
      return out;
    };

    for (const rule of rules) {
      const h = maskBag(headers, rule);
      const p = maskBag(properties, rule);
      if (h !== headers || p !== properties) masked = true;
      headers = h;
      properties = p;
      if (key !== null) {
        const k = rule.key ? rule.replacement : rule.patterns.length > 0 ? replaceText(key, rule) : key;
        if (k !== key) masked = true;
        key = k;
      }
      if (rule.paths.length === 0 && rule.patterns.length === 0) continue;
      const text = decodeText(value);
      if (text === null) continue;
      let next = text;
      if (rule.paths.length > 0 && value.byteLength <= MAX_JSON_BYTES) {
        let parsed: unknown;
        let isJson = true;
        try {
          parsed = JSON.parse(text);
        } catch {
          isJson = false;
        }
        if (isJson) {
          let hits = 0;
          for (const path of rule.paths) hits += maskPath(parsed, path, rule.replacement);
          if (hits > 0) next = JSON.stringify(parsed);
        }
      }
      if (rule.patterns.length > 0) next = replaceText(next, rule);
      if (next !== text) {
        masked = true;
        value = encoder.encode(next);
      }
    }
    return { ...message, headers, properties, key, value, masked };
  }
}

/** No rules: what the in-process tests without a masker use. */
export const NO_MASK: MessageMask = (message) => ({ ...message, masked: false });
