import { InvalidInputError } from '../errors';

/** A filter that does not parse or is unsafe; `position` is the character offset of the problem. */
export class FilterSyntaxError extends InvalidInputError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`Filter error at ${position}: ${message}`, { hint: 'Example: key == "order-1" && json.amount > 100 && headers["type"] contains "refund"' });
  }
}
