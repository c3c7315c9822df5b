/**
 * A value an expression can call: a template's macro, `caller()` inside `{% call %}`, `super()`
 * inside a block, `loop.cycle()`. What a call does is the template engine's (liquid-files.ts)
 * or the loop's (loop.ts); the language only calls it.
 */

import type { Kwargs } from './filters';
import { HostObject, MISSING } from './values';

export abstract class Callable extends HostObject {
  abstract call(args: unknown[], kw: Kwargs): unknown;
  attr(_key: string): unknown {
    return MISSING;
  }
  value(): unknown {
    return '';
  }
}

/** A Callable from a function (for small built-in ones). */
export class FnCallable extends Callable {
  constructor(private readonly fn: (args: unknown[], kw: Kwargs) => unknown) {
    super();
  }
  call(args: unknown[], kw: Kwargs): unknown {
    return this.fn(args, kw);
  }
}
