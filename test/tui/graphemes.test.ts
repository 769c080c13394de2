import { describe, expect, it } from 'vitest';
import { GraphemeSegmenter } from '../../src/tui/graphemes.js';

const icu = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const plain = (segments: Iterable<Intl.SegmentData>) => [...segments].map(({ segment, index }) => ({ segment, index }));

// What the workshop shows (ASCII, its marks and arrows, styles), and what joins: combining
// marks, CR LF, ZWJ emoji, flags, skin tones, variation selectors, Hangul jamo, astral CJK.
const SAMPLES = [
  '',
  'enter open · ↑↓ j k move · 0-9 jump · ? help · q quit',
  '\x1b[2m▸ 3  cgroups …\x1b[22m ✓ done µ',
  'cafe\u0301 na\u0308ive',
  'line\r\nnext\r',
  'family 👨‍👩‍👧 ok',
  'flags 🇫🇷🇩🇪 and 🇫',
  'thumbs 👍🏽 heart ❤️',
  '한국어 \u1100\u1161\u11a8',
  '𠀋𠀌 and 😀',
  'ก\u0e33 e\u20dd',
];

describe('GraphemeSegmenter, as Intl.Segmenter does it', () => {
  it.each(SAMPLES.map((s) => [JSON.stringify(s), s]))('splits %s into the same graphemes', (_, text) => {
    expect(plain(new GraphemeSegmenter(undefined, { granularity: 'grapheme' }).segment(text))).toEqual(plain(icu.segment(text)));
  });

  it.each(SAMPLES.map((s) => [JSON.stringify(s), s]))('finds the grapheme containing each index of %s', (_, text) => {
    const ours = new GraphemeSegmenter().segment(text);
    const theirs = icu.segment(text);
    for (let i = -1; i <= text.length; i++) {
      const a = ours.containing(i);
      const b = theirs.containing(i);
      expect(a && { segment: a.segment, index: a.index }, `index ${i}`).toEqual(b && { segment: b.segment, index: b.index });
    }
  });

  it('needs no Intl.Segmenter for text in which nothing joins, and makes one for text that does', () => {
    const Real = Intl.Segmenter;
    let made = 0;
    Intl.Segmenter = class extends Real {
      constructor(...args: ConstructorParameters<typeof Real>) {
        super(...args);
        made++;
      }
    } as typeof Intl.Segmenter;
    try {
      const segmenter = new GraphemeSegmenter(undefined, { granularity: 'grapheme' });
      [...segmenter.segment(SAMPLES[1]), ...segmenter.segment(SAMPLES[2])];
      expect(made).toBe(0);
      expect(plain(segmenter.segment('cafe\u0301'))).toEqual([{ segment: 'c', index: 0 }, { segment: 'a', index: 1 }, { segment: 'f', index: 2 }, { segment: 'e\u0301', index: 3 }]);
      expect(made).toBe(1);
    } finally {
      Intl.Segmenter = Real;
    }
  });
});
