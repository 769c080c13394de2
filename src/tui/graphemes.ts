// Grapheme segmentation for Ink's text handling (slice-ansi, ansi-tokenize),
// which the workshop bundle uses in place of Intl.Segmenter: the first
// Intl.Segmenter a process makes costs ~15 ms (ICU's setup), before the menu's
// first frame. A string in which no two code points can join (UAX #29: no CR,
// Hangul jamo, extending or spacing marks, ZWJ, prepend, regional indicators
// or emoji modifiers) breaks at every code point, so it is split here; any
// other string goes to Intl.Segmenter, made on first need.

/** Code points that a grapheme boundary rule (GB3, GB6-GB9b, GB11-GB13) may join to a neighbour. */
const MAY_JOIN =
  /[\r\p{M}\p{Grapheme_Extend}\u200d\p{Regional_Indicator}\p{Emoji_Modifier}\u1100-\u11ff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e\u0e33\u0eb3\u{110bd}\u{110cd}\u{111c2}\u{111c3}\u{1193f}\u{11941}\u{11a3a}\u{11a84}-\u{11a89}\u{11d46}\u{11f02}]/u;

/** Intl.Segments for a string whose every code point is a grapheme of its own. */
class CodePointSegments implements Intl.Segments {
  constructor(private readonly input: string) {}

  containing(codeUnitIndex = 0): Intl.SegmentData | undefined {
    let index = Math.trunc(codeUnitIndex);
    if (!(index >= 0 && index < this.input.length)) return undefined;
    // Inside a surrogate pair: the grapheme starts at its high half.
    const unit = this.input.charCodeAt(index);
    if (unit >= 0xdc00 && unit <= 0xdfff && index > 0) {
      const before = this.input.charCodeAt(index - 1);
      if (before >= 0xd800 && before <= 0xdbff) index--;
    }
    const segment = String.fromCodePoint(this.input.codePointAt(index)!);
    return { segment, index, input: this.input };
  }

  *[Symbol.iterator](): IterableIterator<Intl.SegmentData> {
    let index = 0;
    for (const segment of this.input) {
      yield { segment, index, input: this.input };
      index += segment.length;
    }
  }
}

/** As Intl.Segmenter, for the granularity 'grapheme' without ICU when the text allows. */
export class GraphemeSegmenter {
  private icu?: Intl.Segmenter;

  constructor(
    private readonly locales?: string | string[],
    private readonly options?: Intl.SegmenterOptions,
  ) {}

  segment(input: string): Intl.Segments {
    if ((this.options?.granularity ?? 'grapheme') === 'grapheme' && !MAY_JOIN.test(input)) return new CodePointSegments(input);
    // globalThis: the bundle's build replaces every plain `Intl.Segmenter` with this class.
    this.icu ??= new globalThis.Intl.Segmenter(this.locales, this.options);
    return this.icu.segment(input);
  }
}
