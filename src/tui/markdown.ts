// Lesson markdown to terminal rows. Prose goes through marked-terminal; code
// blocks do not: marked-terminal indents and wraps them like prose, which
// breaks a command in the middle, so we lay them out ourselves, never wrapped.
// A code line too long for the screen is split only at a space outside quotes,
// with a shell line continuation (` \`), so what is shown still runs as typed.
// marked-terminal (and the highlight.js it loads) takes ~100 ms to import:
// it is loaded on first use, never for the menu.
import { hangingIndentOf, stripAnsi, textWidth, truncate, wrapLine } from './text.js';

export interface DocRow {
  text: string;
  /** How the row is drawn: prose carries its own ANSI styles; the others are styled by the view. */
  kind: 'prose' | 'code' | 'title' | 'dim' | 'ok' | 'fail' | 'warn' | 'output' | 'blank';
}

export interface MarkdownRenderer {
  render(markdown: string, width: number): DocRow[];
}

// Private-use characters mark where a code block goes in marked-terminal's output.
const CODE_OPEN = '\ue000';
const CODE_CLOSE = '\ue001';
const CODE_PLACEHOLDER = new RegExp(`${CODE_OPEN}(\\d+)${CODE_CLOSE}`);
const TABLE_LINE = /^\s*[┌├└│]/;

/**
 * Splits one command line into rows of at most `width` columns, breaking only
 * at unquoted spaces and ending each broken row with ` \`. Continuation rows are
 * indented two more columns. A single word longer than a row stays whole (the
 * view cuts it with '…' rather than wrap inside it).
 */
export function layoutCodeLine(line: string, width: number): string[] {
  if (textWidth(line) <= width) return [line];
  // Words separated by spaces outside single or double quotes.
  const words: string[] = [];
  let word = '';
  let quote: string | null = null;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null;
      word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word += char;
    } else if (char === ' ' && word.trim() !== '') {
      words.push(word);
      word = '';
    } else {
      word += char;
    }
  }
  if (word) words.push(word);

  const rows: string[] = [];
  let current = '';
  for (const next of words) {
    const candidate = current ? `${current} ${next}` : next;
    const room = width - 2; // keep space for ' \'
    if (current && textWidth(candidate) > room) {
      rows.push(`${current} \\`);
      current = `  ${next.trimStart()}`;
    } else {
      current = candidate;
    }
  }
  rows.push(current);
  return rows;
}

/** A code block as rows: indented two columns when that fits, else flush, else split as a shell command. */
export function layoutCodeBlock(code: string, width: number, prefix = ''): DocRow[] {
  const lines = code.replace(/\n+$/, '').replace(/\t/g, '    ').split('\n');
  const base = textWidth(prefix);
  const widest = Math.max(0, ...lines.map(textWidth));
  const indent = base + (widest + base + 2 <= width ? 2 : widest + base <= width ? 0 : 2);
  const pad = ' '.repeat(indent);
  return lines.flatMap((line) => layoutCodeLine(line, width - indent).map((row) => ({ text: pad + row, kind: 'code' as const })));
}

/**
 * Column widths that add up to at most `room`: narrow columns keep their
 * natural width, wide ones share what is left equally (at least 6 each).
 */
export function fitColumns(natural: number[], room: number): number[] {
  if (natural.reduce((a, b) => a + b, 0) <= room) return natural;
  const widths = natural.map(() => 0);
  let left = room;
  let open = natural.map((_, i) => i);
  // Repeatedly give every unsatisfied column an equal share; columns needing less take only what they need.
  while (open.length && left > 0) {
    const share = Math.floor(left / open.length);
    const small = open.filter((i) => natural[i] <= share);
    if (!small.length) {
      for (const i of open) widths[i] = Math.max(6, share);
      break;
    }
    for (const i of small) {
      widths[i] = natural[i];
      left -= natural[i];
    }
    open = open.filter((i) => natural[i] > share);
  }
  return widths;
}

type TokenLike = { type?: string; text?: string; tokens?: unknown[]; href?: string; title?: string | null };
type RendererFn = (this: { parser: { parseInline(tokens: unknown[]): string } }, token: TokenLike) => string;

async function createRenderer(): Promise<MarkdownRenderer> {
  const { Marked, markedTerminal } = await import('./marked.js');
  let codeBlocks: string[] = [];
  const byWidth = new Map<number, InstanceType<typeof Marked>>();

  const markedFor = (width: number): InstanceType<typeof Marked> => {
    let marked = byWidth.get(width);
    if (marked) return marked;
    // marked-terminal hands this object to cli-table3 for every table; table() below fills it in per table.
    const tableOptions: { colWidths?: number[]; wordWrap?: boolean } = {};
    const extension = markedTerminal({ width, reflowText: true, emoji: false, tab: 2, tableOptions }) as unknown as {
      renderer: Record<string, RendererFn>;
    };
    const terminalTable = extension.renderer.table;
    // cli-table3 sizes columns to their content, however wide: give it widths that fit, and let it wrap cells.
    extension.renderer.table = function (token) {
      const table = token as unknown as { header: Array<{ text: string }>; rows: Array<Array<{ text: string }>> };
      const natural = table.header.map((cell, col) =>
        Math.max(textWidth(cell.text), ...table.rows.map((row) => textWidth(row[col]?.text ?? ''))) + 2,
      );
      const widths = fitColumns(natural, width - (natural.length + 1));
      tableOptions.colWidths = widths;
      tableOptions.wordWrap = widths.some((w, i) => w < natural[i]);
      return terminalTable.call(this, token);
    };
    const terminalText = extension.renderer.text;
    // marked-terminal prints a tight list item's inline tokens raw (`**bold**` stays literal):
    // render them as inline markdown, as marked's own renderer does.
    extension.renderer.text = function (token) {
      if (typeof token === 'object' && Array.isArray(token.tokens)) return this.parser.parseInline(token.tokens);
      return terminalText.call(this, token);
    };
    // Code blocks leave a placeholder; render() lays them out unwrapped.
    extension.renderer.code = function (token) {
      const index = codeBlocks.push(typeof token === 'object' ? String(token.text ?? '') : String(token)) - 1;
      return `${CODE_OPEN}${index}${CODE_CLOSE}\n\n`;
    };
    // Links as "text (href)": no OSC 8 hyperlink escapes, which some terminals print raw.
    extension.renderer.link = function (token) {
      const text = Array.isArray(token.tokens) ? this.parser.parseInline(token.tokens) : String(token.text ?? '');
      const href = String(token.href ?? '');
      if (!href || stripAnsi(text) === href) return text || href;
      return `${text} (${href})`;
    };
    marked = new Marked(extension as never);
    byWidth.set(width, marked);
    return marked;
  };

  return {
    render(markdown, width) {
      codeBlocks = [];
      const output = String(markedFor(width).parse(markdown, { async: false }));
      const blocks = codeBlocks;
      const rows: DocRow[] = [];
      for (const line of output.replace(/\n+$/, '').split('\n')) {
        const placeholder = CODE_PLACEHOLDER.exec(line);
        if (placeholder) {
          rows.push(...layoutCodeBlock(blocks[Number(placeholder[1])], width, stripAnsi(line.slice(0, placeholder.index)).replace(/\S/g, ' ')));
          continue;
        }
        if (stripAnsi(line).trim() === '') {
          rows.push({ text: '', kind: 'blank' });
        } else if (TABLE_LINE.test(stripAnsi(line))) {
          rows.push({ text: truncate(line, width), kind: 'prose' });
        } else {
          for (const row of wrapLine(line, width, hangingIndentOf(line))) rows.push({ text: row, kind: 'prose' });
        }
      }
      // Collapse runs of blank rows (marked-terminal ends every section with two newlines).
      return rows.filter((row, i) => !(row.kind === 'blank' && (i === 0 || rows[i - 1].kind === 'blank')));
    },
  };
}

/** The markdown as written, wrapped: what the learner reads if marked-terminal cannot be loaded. */
export const plainRenderer: MarkdownRenderer = {
  render: (markdown, width) =>
    markdown
      .replace(/\n+$/, '')
      .split('\n')
      .flatMap((line) => (line.trim() ? wrapLine(line, width, hangingIndentOf(line)) : ['']))
      .map((text) => ({ text, kind: text ? ('prose' as const) : ('blank' as const) })),
};

let loading: Promise<MarkdownRenderer> | undefined;

/** The renderer, importing marked-terminal the first time. */
export function loadMarkdownRenderer(): Promise<MarkdownRenderer> {
  loading ??= createRenderer();
  return loading;
}
