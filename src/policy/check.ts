/**
 * The shape of a check result, shared by every verdict the tool gives (`verify`'s image checks,
 * `talos check`): pass, fail or skipped, with the reason, so one renderer prints them all. Pure.
 */

export interface Check<Id extends string = string> {
  readonly id: Id;
  readonly ok: boolean | 'skipped';
  readonly message: string;
  /** Information only: never fails the verdict. */
  readonly info?: true;
}

export function pass<Id extends string>(id: Id, message: string): Check<Id> {
  return { id, ok: true, message };
}
export function fail<Id extends string>(id: Id, message: string): Check<Id> {
  return { id, ok: false, message };
}
export function skip<Id extends string>(id: Id, message: string): Check<Id> {
  return { id, ok: 'skipped', message };
}

/** True when no check failed (skipped and information checks do not fail). */
export function allPassed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.ok !== false);
}
