import { InvalidInputError } from '@mailroom/core';

/** DLQ naming conventions such as `{topic}.DLT`: each pattern has exactly one `{topic}`. */
export class DeadLetterNaming {
  private readonly matchers: { pattern: string; regex: RegExp }[];

  constructor(readonly patterns: string[]) {
    this.matchers = patterns.map((pattern) => {
      const parts = pattern.split('{topic}');
      if (parts.length !== 2) throw new InvalidInputError(`DLQ pattern ${JSON.stringify(pattern)} must contain {topic} exactly once`);
      const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return { pattern, regex: new RegExp(`^${escape(parts[0] ?? '')}(.+)${escape(parts[1] ?? '')}$`) };
    });
  }

  /** The DLQ name the first pattern gives `topic`. */
  nameFor(topic: string): string {
    return (this.patterns[0] ?? '{topic}.DLT').replace('{topic}', topic);
  }

  /** The origin `name` implies when it is a DLQ by one of the patterns, else null. */
  originOf(name: string): string | null {
    for (const { regex } of this.matchers) {
      const match = regex.exec(name);
      if (match?.[1]) return match[1];
    }
    return null;
  }

  /** Every DLQ name the patterns give `topic`, in pattern order. */
  candidatesFor(topic: string): string[] {
    return this.patterns.map((p) => p.replace('{topic}', topic));
  }
}
