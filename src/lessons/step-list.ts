// Steps named in words, for the jump's "ran step 7 for you" (the TUI and check-all).
// A module of its own, importing nothing: the workshop's menu bundle may load it.

/** "step 7", "steps 1, 2 and 3" (0-based in, 1-based out). */
export function stepList(indices: number[]): string {
  const n = indices.map((i) => String(i + 1));
  return n.length === 1 ? `step ${n[0]}` : `steps ${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}
