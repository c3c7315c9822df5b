/**
 * Splitting a template into liquidjs tokens the way Jinja's lexer would: `{{ }}` ends where the
 * expression language says (outputs.ts), `{# #}` comments (template files), and Jinja's
 * whitespace rules on top of liquidjs's `-` trimming: trim_blocks (the first newline after a
 * block tag or comment is dropped; Ansible's default), lstrip_blocks (blanks before a block tag
 * or comment at the start of a line are dropped), `{%+` / `+%}` turning those off for one tag,
 * and the newline sequence of the text.
 */

import { Liquid, Token, TokenKind, Tokenizer, TopLevelToken, TypeGuards } from 'liquidjs';

type NormalizedFullOptions = Liquid['options'];
import type { ParseOptions } from './compile';
import { outputContent, outputEnd, syntaxError } from './jinja';

/** An output whose end is the language's (outputs.ts), not Liquid's first `}}`. */
export class ExprToken extends Token {
  readonly contentRange: [number, number];
  readonly trimLeft: boolean;
  readonly trimRight: boolean;
  constructor(input: string, begin: number, end: number, file?: string) {
    super(TokenKind.Output, input, begin, end, file);
    const c = outputContent(input, begin, end);
    this.contentRange = [c.begin, c.end];
    // read by liquidjs's whitespace control, as on its own output tokens
    this.trimLeft = c.trimLeft;
    this.trimRight = c.trimRight;
  }
}

/** `{# ... #}`: renders nothing; it is text to liquidjs, whitespace control is ours. */
class CommentToken extends Token {
  constructor(
    input: string,
    begin: number,
    end: number,
    file: string | undefined,
    readonly trimLeft: boolean,
    readonly trimRight: boolean,
  ) {
    super(TokenKind.HTML, input, begin, end, file);
  }
  getContent(): string {
    return '';
  }
}

/** Text whose content tsplay decided (trim_blocks, lstrip_blocks, newline sequence). */
class TextToken extends Token {
  constructor(
    from: Token,
    private readonly content: string,
  ) {
    super(TokenKind.HTML, from.input, from.begin, from.end, from.file);
  }
  getContent(): string {
    return this.content;
  }
}

class BalancedTokenizer extends Tokenizer {
  comment?: { start: string; end: string };
  override readOutputToken(options?: Parameters<Tokenizer['readOutputToken']>[0]): ReturnType<Tokenizer['readOutputToken']> {
    const end = outputEnd(this.input, this.p);
    // unbalanced or unclosed: let liquidjs report it its way
    if (end < 0) return super.readOutputToken(options);
    const t = new ExprToken(this.input, this.p, end, this.file);
    this.p = end;
    // typed as liquidjs's own output token; what liquidjs reads of one (kind, trims) ExprToken has
    return t as unknown as ReturnType<Tokenizer['readOutputToken']>;
  }
  override readTopLevelToken(options: NormalizedFullOptions): TopLevelToken {
    const c = this.comment;
    // inside {% raw %} nothing is a comment (rawBeginAt is liquidjs's own raw state)
    if (!c || (this as unknown as { rawBeginAt: number }).rawBeginAt > -1) return super.readTopLevelToken(options);
    if (this.match(c.start)) return this.readComment(c);
    if (this.match(options.tagDelimiterLeft) || this.match(options.outputDelimiterLeft)) return super.readTopLevelToken(options);
    return this.readHTMLToken([options.tagDelimiterLeft, options.outputDelimiterLeft, c.start]);
  }
  private readComment(c: { start: string; end: string }): TopLevelToken {
    const begin = this.p;
    const close = this.input.indexOf(c.end, begin + c.start.length);
    if (close < 0) throw syntaxError(this.input.slice(begin, begin + 20), 0, begin, `comment is not closed by ${c.end}`);
    const inner = this.input.slice(begin + c.start.length, close);
    this.p = close + c.end.length;
    return new CommentToken(this.input, begin, this.p, this.file, inner.startsWith('-'), inner.length > 0 && inner.endsWith('-')) as unknown as TopLevelToken;
  }
}

/**
 * liquidjs tokens of `src`. `{%+` and `+%}` are Jinja's, not Liquid's: the `+` is blanked in the
 * text liquidjs reads (offsets stay the same) and remembered for the whitespace rules.
 */
export function tokenize(src: string, o: ParseOptions, options: NormalizedFullOptions): TopLevelToken[] {
  const plusLeft = new Set<number>();
  const plusRight = new Set<number>();
  const input = src.replace(/\{%\+|\+%\}/g, (m, at: number) => {
    if (m[0] === '{') plusLeft.add(at);
    else plusRight.add(at + 3);
    return m[0] === '{' ? '{% ' : ' %}';
  });
  const t = new BalancedTokenizer(input, options.operators, o.file, undefined, options.groupedExpressions);
  if (o.comments) t.comment = o.comments;
  const tokens = t.readTopLevelTokens(options);
  shapeWhitespace(tokens, o, plusLeft, plusRight);
  return tokens;
}

const isComment = (t: TopLevelToken | undefined): boolean => (t as unknown) instanceof CommentToken;
const isText = (t: TopLevelToken | undefined): boolean => !!t && TypeGuards.isHTMLToken(t) && !isComment(t);
/** a block tag or a comment: what trim_blocks and lstrip_blocks act around */
const isBlock = (t: TopLevelToken | undefined): boolean => !!t && (TypeGuards.isTagToken(t) || isComment(t));
const trims = (t: TopLevelToken) => t as unknown as { trimLeft: boolean; trimRight: boolean; name?: string };

function shapeWhitespace(tokens: TopLevelToken[], o: ParseOptions, plusLeft: Set<number>, plusRight: Set<number>): void {
  const content = (t: TopLevelToken) => (t as unknown as { getContent(): string }).getContent();
  const text = tokens.map((t) => (isText(t) ? content(t) : undefined));
  // text that begins a line: the template's start, or trim_blocks ate the newline before it
  const lineStart = tokens.map((_, i) => i === 0);
  for (let i = 1; i < tokens.length; i++) {
    const prev = tokens[i - 1];
    const x = text[i];
    if (x === undefined || !o.trimBlocks || !isBlock(prev) || trims(prev).trimRight || plusRight.has(prev.end)) continue;
    // Jinja leaves the newline after {% raw %} (it is raw content) but not the one after {% endraw %}
    if (trims(prev).name === 'raw') continue;
    const drop = x.startsWith('\n') ? 1 : x.startsWith('\r\n') ? 2 : 0;
    if (drop) (text[i] = x.slice(drop)), (lineStart[i] = true);
  }
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    const x = text[i - 1];
    if (x === undefined || !isBlock(t)) continue;
    if (isComment(t) && trims(t).trimLeft) {
      text[i - 1] = x.replace(/\s+$/, '');
      continue;
    }
    if (!o.lstripBlocks || trims(t).trimLeft || plusLeft.has(t.begin)) continue;
    const nl = x.lastIndexOf('\n');
    if ((nl >= 0 || lineStart[i - 1]) && /^[ \t]*$/.test(x.slice(nl + 1))) text[i - 1] = x.slice(0, nl + 1);
  }
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (isComment(tokens[i]) && trims(tokens[i]).trimRight && text[i + 1] !== undefined) text[i + 1] = text[i + 1]!.replace(/^\s+/, '');
  }
  const nl = o.newline;
  for (let i = 0; i < tokens.length; i++) {
    let x = text[i];
    if (x === undefined) continue;
    if (nl && nl !== '\n') x = x.replace(/\n/g, nl);
    if (x !== content(tokens[i])) tokens[i] = new TextToken(tokens[i], x) as unknown as TopLevelToken;
  }
}
