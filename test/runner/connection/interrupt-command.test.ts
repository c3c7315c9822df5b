/** The SSH interrupt command never names process group 0 or 1 (`kill -- -1` signals everything). */
import { interruptCommand } from '../../../runner/connection/shell-session';

test.each([
  [1234, 1234, true],
  [1234, 1, false],
  [1, 1234, false],
  [1234, 0, false],
  [Number.NaN, 1234, false],
])('pid %p pgid %p: signals the group: %p', (pid, pgid, signals) => {
  const cmd = interruptCommand(pid, pgid);
  expect(cmd.includes(`kill -INT -- -${Math.trunc(pgid)} `)).toBe(signals);
  expect(cmd).not.toMatch(/kill -INT -- -[01] /);
  if (!signals) expect(cmd).toBe('true');
});
