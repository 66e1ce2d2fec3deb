import { describeError } from '../api/errors';
import { Alert } from './States';

/**
 * A failed operator action, shown where it was attempted (usually inside its dialog): the
 * server's message and hint, under a title that may be specific to the error code.
 */
export function ActionError({ error, titles = {} }: { error: unknown; titles?: Partial<Record<string, string>> }) {
  const info = describeError(error);
  return (
    <div data-error-code={info.code ?? undefined}>
      <Alert tone="danger" title={(info.code !== null ? titles[info.code] : undefined) ?? info.title}>
        <div>{info.message}</div>
        {info.hint !== null && <div className="muted small">{info.hint}</div>}
      </Alert>
    </div>
  );
}
