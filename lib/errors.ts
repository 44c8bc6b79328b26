/**
 * Base of the named errors of the tools in lib/ (cost, review): `name` is the subclass's own,
 * so a CLI's message and a test's `toThrow(Class)` both see which error it is.
 */
export class NamedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
