/**
 * The Jinja expression language as Ansible users write it inside templates and conditions:
 * parsing (lexer, parser, ast), evaluation with filters, tests and methods, Python's value
 * semantics and text. It knows no template engine: ../liquid.ts plugs it into liquidjs, and
 * engine-specific bits come in through EngineFilters and HostObject.
 */

export type { Expr, ForHeader, Node } from './ast';
export { referencedNames } from './ast';
export { syntaxError } from './lexer';
export { parseExpression } from './parser';
export { bindLoopVars, loopItems, loopObject, parseForHeader } from './loop';
export type { EngineFilters } from './engine-filters';
export { suggest, useEngineFilters } from './engine-filters';
export type { Scope } from './evaluate';
export type { FunctionScope } from './functions';
export { useLookups } from './functions';
export { evaluateRaw, evaluateTruth, evaluateValue, objectScope, unknownNames } from './evaluate';
export type { Kwargs } from './filters';
export { FILTERS } from './filters';
export { Callable, FnCallable } from './callable';
export { outputContent, outputEnd } from './outputs';
export { HostObject, isMapping, isPlainObject, MISSING, toText, truthy, typeName, Undefined, UNDEFINED_HINT, undefinedError } from './values';
