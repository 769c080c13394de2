// Values in a lesson's front matter and step blocks: JSON when it parses;
// otherwise a list or map in a relaxed flow syntax where words need no quotes
// (`[uts, mnt]`, `{memory: 512M, pids: 10}`); otherwise the text itself.

/** Thrown with a message that says what is wrong with the value; the loader adds file and step. */
export class ValueError extends Error {}

export function parseValue(raw: string): unknown {
  const text = raw.trim();
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: try the relaxed forms below
  }
  const bracketed = (text.startsWith('[') && text.endsWith(']')) || (text.startsWith('{') && text.endsWith('}'));
  if (!bracketed) return text;
  const parser = new FlowParser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.done()) parser.fail('unexpected text after the end');
  return value;
}

class FlowParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    throw new ValueError(
      `cannot read ${JSON.stringify(this.text)} (${what} at character ${this.pos + 1}); ` +
        'write a list as [a, b] or a map as {key: value}, or quote it as a JSON string if it is text',
    );
  }

  skipSpace(): void {
    while (!this.done() && /\s/.test(this.text[this.pos])) this.pos++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '[') return this.list();
    if (c === '{') return this.map();
    return this.scalar(',]}');
  }

  private list(): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== ']') this.fail(c === undefined ? 'missing ]' : `expected , or ] but found ${c}`);
    }
  }

  private map(): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.scalar(':,}');
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('a key must be a word');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected : after ${key}`);
      this.pos++;
      out[String(key)] = this.value();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') this.fail(c === undefined ? 'missing }' : `expected , or } but found ${c}`);
    }
  }

  /** A quoted string, or a bare word up to one of `stops`, read as a number, true, false or null when it is one. */
  private scalar(stops: string): unknown {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (quote === '"' || quote === "'") {
      const end = this.closingQuote(quote);
      const body = this.text.slice(this.pos, end + 1);
      this.pos = end + 1;
      if (quote === "'") return body.slice(1, -1);
      try {
        return JSON.parse(body);
      } catch {
        this.fail('a bad escape in a quoted string');
      }
    }
    const start = this.pos;
    while (!this.done() && !stops.includes(this.text[this.pos])) this.pos++;
    const word = this.text.slice(start, this.pos).trim();
    if (word === '') this.fail('a missing value');
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
    return word;
  }

  private closingQuote(quote: string): number {
    for (let i = this.pos + 1; i < this.text.length; i++) {
      if (quote === '"' && this.text[i] === '\\') i++;
      else if (this.text[i] === quote) return i;
    }
    this.fail(`an unclosed ${quote}`);
  }
}

/** A value for messages: strings as they are, everything else as JSON, cut to `max` characters. */
export function showValue(value: unknown, max = 120): string {
  let text: string;
  if (value === undefined) text = '(nothing)';
  else if (typeof value === 'string') text = JSON.stringify(value);
  else if (value instanceof RegExp) text = String(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
