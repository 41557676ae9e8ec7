// The text of the generated tokens as it grows, for streaming: each token's delta is what the decoded text gained
// (transformers' TextStreamer), holding back (a) a trailing incomplete UTF-8 character (U+FFFD while a byte-level
// token ends mid-character) and (b) a tail that could still become a stop string, so that what was streamed is always
// a prefix of the final text and a stop string is never shown. The final text ends before the first stop string
// (mlx_lm and llama.cpp's server do the same; the tokens that made it stay in `tokens`). Special tokens are skipped.
// Pure TS.
import type { TextTokenizer } from '../data/tokenizer';

export class TextStream {
  private readonly ids: number[] = [];
  private emitted = 0;
  private full = '';
  private stopAt = -1;

  constructor(
    private readonly tokenizer: TextTokenizer | null,
    private readonly stop: readonly string[],
  ) {
    if (stop.length && !tokenizer) throw new Error('stop strings need the model folder\'s tokenizer.json');
  }

  /** Add a token; the new text to show, and whether a stop string has appeared (then generation ends). */
  push(id: number): { delta: string; stopped: boolean } {
    if (!this.tokenizer || this.stopAt >= 0) return { delta: '', stopped: this.stopAt >= 0 };
    this.ids.push(id);
    this.full = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    let hit = -1;
    for (const s of this.stop) {
      const at = this.full.indexOf(s);
      if (at >= 0 && (hit < 0 || at < hit)) hit = at;
    }
    if (hit >= 0) {
      this.stopAt = hit;
      return { delta: this.take(hit), stopped: true };
    }
    let safe = this.full.length;
    while (safe > this.emitted && this.full[safe - 1] === '\uFFFD') safe--;
    safe -= this.stopPrefixAt(safe);
    return { delta: this.take(safe), stopped: false };
  }

  /** What was held back, once generation has ended without a stop string (a dangling U+FFFD stays). */
  finish(): string {
    return this.take(this.text.length);
  }

  /** The final text: everything decoded, cut before the first stop string. */
  get text(): string {
    return this.stopAt >= 0 ? this.full.slice(0, this.stopAt) : this.full;
  }

  /** Length of the longest tail of full[0, end) that is a proper prefix of a stop string. */
  private stopPrefixAt(end: number): number {
    let longest = 0;
    for (const s of this.stop) {
      for (let n = Math.min(s.length - 1, end - this.emitted); n > longest; n--) {
        if (this.full.startsWith(s.slice(0, n), end - n)) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const d = this.full.slice(this.emitted, end);
    this.emitted = end;
    return d;
  }
}
