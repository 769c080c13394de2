// lessons/FORMAT.md tells authors which actions exist and what parameters each
// takes: its tables must say what src/lessons/actions/ defines, no more, no less.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/lessons/actions.js';
import { CONTAINER_PARAMS } from '../../src/lessons/params.js';

const FORMAT = fs.readFileSync(path.resolve(import.meta.dirname, '../../lessons/FORMAT.md'), 'utf8');

/** The rows of the markdown table whose header row starts with `| first |`, as cells. */
function tableRows(first: string): string[][] {
  const lines = FORMAT.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(l));
  expect(at, `FORMAT.md has a table starting with | ${first} |`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

/** `name` (what it is), `other` (default x) -> [name, other]: each item's leading `code`, outside parentheses. */
function namesIn(cell: string): string[] {
  let outside = '';
  let depth = 0;
  for (const ch of cell) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) outside += ch;
  }
  return outside.split(',').map((item) => /^\s*`([^`]+)`/.exec(item)?.[1]).filter((n): n is string => n !== undefined);
}

const code = (cell: string) => /^`([^`]+)`$/.exec(cell)?.[1];

describe('lessons/FORMAT.md', () => {
  it('lists every action, and only those', () => {
    expect(tableRows('action').map(([name]) => code(name))).toEqual(Object.keys(ACTIONS));
  });

  it('gives each action exactly the parameters it takes', () => {
    for (const [name, params] of tableRows('action')) {
      const documented = [...(params.startsWith('the container parameters') ? Object.keys(CONTAINER_PARAMS) : []), ...namesIn(params)];
      expect(documented.sort(), `parameters of ${name}`).toEqual(Object.keys(ACTIONS[code(name)!].params).sort());
    }
  });

  it('lists the container parameters, in their order', () => {
    expect(tableRows('parameter').map(([name]) => code(name))).toEqual(Object.keys(CONTAINER_PARAMS));
  });

  it('would notice a parameter that is missing or made up', () => {
    expect(namesIn('`command` (required: `/bin/sh`, or `x`), `as` (e.g. `victim`)')).toEqual(['command', 'as']);
    expect(namesIn('`in`')).toEqual(['in']);
    expect(namesIn('')).toEqual([]);
  });
});
