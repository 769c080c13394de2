// Measuring, wrapping and cutting terminal text that may carry ANSI styles.
// The lesson view lays out every row itself (so it knows how tall things are
// and can scroll); these helpers keep one row = one terminal line.

// SGR/CSI sequences and OSC strings (hyperlinks), the only escapes our renderers produce.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function charWidth(codePoint: number, char: string): number {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (/\p{Mn}|\p{Me}|[\u200b-\u200f\ufe00-\ufe0f]/u.test(char)) return 0;
  if (
    /\p{Extended_Pictographic}/u.test(char) && codePoint > 0x2fff ||
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    codePoint >= 0x20000
  ) {
    return 2;
  }
  return 1;
}

/** Columns the text takes on a terminal. */
export function textWidth(text: string): number {
  // Printable ASCII (most of what is shown, and Ink measures every line): one column a character.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const char of stripAnsi(text)) width += charWidth(char.codePointAt(0)!, char);
  return width;
}

/** Splits styled text into escapes (width 0) and single characters, in order. */
function pieces(text: string): Array<{ text: string; width: number }> {
  const out: Array<{ text: string; width: number }> = [];
  let last = 0;
  for (const match of text.matchAll(ANSI)) {
    for (const char of text.slice(last, match.index)) out.push({ text: char, width: charWidth(char.codePointAt(0)!, char) });
    out.push({ text: match[0], width: 0 });
    last = match.index! + match[0].length;
  }
  for (const char of text.slice(last)) out.push({ text: char, width: charWidth(char.codePointAt(0)!, char) });
  return out;
}

/** Cuts the text to `width` columns, ending in '…' when it had to cut. Escapes are kept. */
export function truncate(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const piece of pieces(text)) {
    if (piece.width === 0) {
      out += piece.text;
      continue;
    }
    if (used + piece.width > width - 1) break;
    out += piece.text;
    used += piece.width;
  }
  // Close any style left open so the ellipsis and what follows are plain.
  return out + (out.includes('\x1b[') ? '\x1b[0m' : '') + '…';
}

/** Cuts from the left: '…' + the end of the text. For paths, whose end is the informative part. */
export function truncateStart(text: string, width: number): string {
  const plain = stripAnsi(text);
  if (textWidth(plain) <= width) return text;
  if (width <= 0) return '';
  const chars = [...plain];
  let used = 0;
  let start = chars.length;
  while (start > 0 && used + charWidth(chars[start - 1].codePointAt(0)!, chars[start - 1]) <= width - 1) {
    start--;
    used += charWidth(chars[start].codePointAt(0)!, chars[start]);
  }
  return '…' + chars.slice(start).join('');
}

/** Pads with spaces to exactly `width` columns (cutting if longer). */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - textWidth(cut)));
}

// Which SGR code turns off what: a closing code removes the openers it closes.
const SGR_CLOSERS: Record<string, (open: number) => boolean> = {
  '0': () => true,
  '22': (open) => open === 1 || open === 2,
  '23': (open) => open === 3,
  '24': (open) => open === 4,
  '27': (open) => open === 7,
  '29': (open) => open === 9,
  '39': (open) => (open >= 30 && open <= 38) || (open >= 90 && open <= 97),
  '49': (open) => (open >= 40 && open <= 48) || (open >= 100 && open <= 107),
};

/** The escapes still in effect after `escape`, given those in effect before (`open`, concatenated). */
function applySgr(open: string, escape: string): string {
  const code = escape.slice(2, -1) || '0';
  const closes = SGR_CLOSERS[code.split(';')[0]];
  if (!closes) return open + escape;
  return [...open.matchAll(/\x1b\[([0-9;]*)m/g)]
    .filter((m) => !closes(Number((m[1] || '0').split(';')[0])))
    .map((m) => m[0])
    .join('');
}

/**
 * Word-wraps one line of styled text to `width` columns. Continuation lines
 * start with `hangingIndent` spaces, so list items and indented prose stay
 * aligned. A word longer than the line is cut hard (prose only: code never
 * comes through here). Styles carry over to continuation lines.
 */
export function wrapLine(line: string, width: number, hangingIndent = 0): string[] {
  if (textWidth(line) <= width) return [line];
  const indent = ' '.repeat(Math.min(hangingIndent, Math.max(0, width - 10)));
  const rows: string[] = [];
  let current = '';
  let currentWidth = 0;
  let openStyles = '';
  let word: Array<{ text: string; width: number }> = [];
  let wordWidth = 0;

  const styleState = (escape: string): void => {
    // Track the SGR state so a continuation line re-opens what was active.
    if (escape.startsWith('\x1b[') && escape.endsWith('m')) openStyles = applySgr(openStyles, escape);
  };
  const newRow = (): void => {
    rows.push(current + (openStyles ? '\x1b[0m' : ''));
    current = indent + openStyles;
    currentWidth = indent.length;
  };
  const flushWord = (): void => {
    if (!word.length) return;
    if (currentWidth + wordWidth > width && currentWidth > indent.length) {
      // Drop the trailing space that separated this word from the previous one.
      current = current.replace(/ (\x1b\[[0-9;]*m)*$/, '$1');
      newRow();
    }
    for (const piece of word) {
      if (piece.width > 0 && currentWidth + piece.width > width) newRow();
      current += piece.text;
      currentWidth += piece.width;
      if (piece.width === 0) styleState(piece.text);
    }
    word = [];
    wordWidth = 0;
  };

  for (const piece of pieces(line)) {
    if (piece.text === ' ') {
      flushWord();
      if (currentWidth + 1 <= width) {
        current += ' ';
        currentWidth += 1;
      }
      continue;
    }
    word.push(piece);
    wordWidth += piece.width;
  }
  flushWord();
  rows.push(current);
  return rows.map((row) => row.replace(/ +((\x1b\[[0-9;]*m)*)$/, '$1'));
}

/** Leading spaces of a line, plus the width of a list bullet or number that starts it. */
export function hangingIndentOf(line: string): number {
  const plain = stripAnsi(line);
  const bullet = /^(\s*)(?:[*+-]|\d+[.)]|>)?\s*/.exec(plain);
  return bullet ? bullet[0].length : 0;
}
