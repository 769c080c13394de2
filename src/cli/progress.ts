// Progress on stderr for anything that takes more than a second: one line
// redrawn in place on a terminal, a line per step otherwise.

export interface Progress {
  step: string;
  done: number;
  total: number;
}

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): { update(p: Progress): void; end(message?: string): void } {
  const tty = stream.isTTY === true;
  let lastStep = '';
  let lastDraw = 0;
  return {
    update(p) {
      if (!tty) {
        if (p.step !== lastStep) stream.write(`${p.step}...\n`);
        lastStep = p.step;
        return;
      }
      const now = Date.now();
      if (p.step === lastStep && now - lastDraw < 80 && p.done < p.total) return;
      lastStep = p.step;
      lastDraw = now;
      const width = 24;
      const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : 0;
      const bar = p.total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}` : '';
      stream.write(`\r\x1b[2K${p.step} ${bar}`);
    },
    end(message) {
      if (tty) stream.write('\r\x1b[2K');
      if (message) stream.write(message + '\n');
    },
  };
}
