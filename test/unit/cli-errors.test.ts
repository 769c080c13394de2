// What the CLI prints for an error and which code it exits with: a user's
// mistake in one sentence, a bug said to be one, the stack only on request.
import { describe, expect, it } from 'vitest';
import { formatError } from '../../src/cli.js';
import { BugError, StartStepError, SyscallError, UserError } from '../../src/runtime/errors.js';

describe('formatError', () => {
  it('prints a UserError as one sentence with its exit code, never a stack', () => {
    for (const debug of [false, true]) {
      expect(formatError(new UserError('--memory: give a size, e.g. 512m'), debug)).toEqual({ text: 'containy-learn: --memory: give a size, e.g. 512m\n', exitCode: 125 });
    }
    expect(formatError(new UserError('not found', 127), false).exitCode).toBe(127);
  });

  it('prints a failed start step as the runtime said it', () => {
    const err = new StartStepError('pivot_root', 'stage: pivot_root: EINVAL: the new root must be a mount point');
    expect(formatError(err, false).text).toBe('containy-learn: stage: pivot_root: EINVAL: the new root must be a mount point\n');
  });

  it('says a BugError is a bug, and how to see the stack', () => {
    const { text, exitCode } = formatError(new BugError('cannot move PID 7 into /sys/fs/cgroup/x/cgroup.procs: EINVAL'), false);
    expect(text).toBe('containy-learn: this is a bug in containy-learn: cannot move PID 7 into /sys/fs/cgroup/x/cgroup.procs: EINVAL (run with CONTAINY_DEBUG=1 for the stack)\n');
    expect(exitCode).toBe(125);
  });

  it('shows a bug\'s stack, and its cause\'s, under CONTAINY_DEBUG=1', () => {
    const { text } = formatError(new BugError('worker failed', { cause: new Error('inner') }), true);
    expect(text.split('\n')[0]).toBe('containy-learn: this is a bug in containy-learn: worker failed');
    expect(text).toMatch(/\n\s+at /);
    expect(text).toMatch(/caused by: Error: inner/);
    expect(text).not.toContain('CONTAINY_DEBUG=1 for the stack');
  });

  it('keeps a SyscallError\'s explanation', () => {
    expect(formatError(new SyscallError('unshare', 'EPERM'), false).text).toBe('containy-learn: unshare failed with EPERM: needs root (CAP_SYS_ADMIN)\n');
  });
});
