// The message of the UserError that `fn` throws; fails the test if it throws none, or another kind.
import { expect } from 'vitest';
import { UserError } from '../../src/runtime/errors.js';

export function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
}
