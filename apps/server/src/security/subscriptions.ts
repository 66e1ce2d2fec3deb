/** Open subscriptions per session (or per anonymous client address), bounded by limits.maxSubscriptionsPerSession. */
export class SubscriptionLimiter {
  private readonly open = new Map<string, number>();

  tryOpen(key: string, limit: number): boolean {
    const n = this.open.get(key) ?? 0;
    if (n >= limit) return false;
    this.open.set(key, n + 1);
    return true;
  }

  close(key: string): void {
    const n = (this.open.get(key) ?? 1) - 1;
    if (n <= 0) this.open.delete(key);
    else this.open.set(key, n);
  }

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }

  /**
   * The same stream, releasing its slot exactly once when it ends, fails or is returned, even if
   * it is returned before it was ever read (a generator's `finally` would not run then).
   */
  track<T>(key: string, source: AsyncIterable<T>): AsyncIterable<T> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.close(key);
    };
    return {
      [Symbol.asyncIterator](): AsyncIterator<T> {
        const inner = source[Symbol.asyncIterator]();
        return {
          async next() {
            try {
              const step = await inner.next();
              if (step.done) release();
              return step;
            } catch (error) {
              release();
              throw error;
            }
          },
          async return(value?: unknown) {
            release();
            return (await inner.return?.(value)) ?? { done: true, value: undefined as T };
          },
          async throw(error?: unknown) {
            release();
            if (inner.throw) return inner.throw(error);
            throw error;
          },
        };
      },
    };
  }
}
