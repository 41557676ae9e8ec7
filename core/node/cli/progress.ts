// A one-line progress bar with ETA for long CLI work, drawn on stderr only when it is a TTY (so pipes and --json
// output stay clean). Under bin/mesp.js the command runs in a child whose stderr is a pipe to the terminal's:
// MESP_STDERR_COLUMNS says that terminal's width.

/** Is stderr a terminal (directly, or through bin/mesp.js)? */
export function stderrIsTty(stream: NodeJS.WriteStream = process.stderr): boolean {
  return !!stream.isTTY || (stream === process.stderr && !!process.env.MESP_STDERR_COLUMNS);
}

function columnsOf(stream: NodeJS.WriteStream): number {
  return stream.columns ?? (Number(process.env.MESP_STDERR_COLUMNS) || 120);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export class ProgressBar {
  private readonly t0 = performance.now();
  private last = 0;
  private readonly tty: boolean;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** How done and total are written (e.g. bytes as MB); plain numbers by default. */
    private readonly units: (n: number) => string = String,
  ) {
    this.tty = stderrIsTty(stream);
  }

  /** done of total; `extra` is appended (e.g. "loss 2.31"). Redraws at most 10 times a second. */
  update(done: number, extra = '', etaSeconds?: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.t0) / 1000;
    const eta = etaSeconds ?? (done > 0 ? (elapsed / done) * (this.total - done) : NaN);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.units(done)}/${this.units(this.total)} ${(frac * 100).toFixed(0)}% ` +
      `elapsed ${formatSeconds(elapsed)} ETA ${formatSeconds(eta)} ${extra}`;
    const cols = columnsOf(this.stream);
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length))}`);
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
