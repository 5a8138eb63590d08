import { execFileSync, spawnSync } from 'node:child_process';

/**
 * A command run in a real terminal: a tmux session (on a tmux server of its own) whose screen the test reads, as a
 * user would see it. scripts/install-test-tools.sh installs tmux.
 */
export class Terminal {
  private readonly socket = `vmops-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'term';

  constructor(command: string, options: { env: Record<string, string>; cwd: string; width?: number; height?: number }) {
    const exports = Object.entries(options.env)
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}';`)
      .join(' ');
    // The exit status is printed last; the shell then stays, so that the screen can still be read.
    const script = `cd '${options.cwd}'; ${exports} ${command}; echo "EXIT=$?"; sleep 600`;
    execFileSync('tmux', [
      '-L',
      this.socket,
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      this.session,
      '-x',
      String(options.width ?? 160),
      '-y',
      String(options.height ?? 24),
      'bash',
      '--norc',
      '-c',
      script,
    ]);
  }

  screen(): string {
    const run = spawnSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', this.session], { encoding: 'utf8' });
    return run.status === 0 ? run.stdout : '';
  }

  /**
   * Reads the screen every `everyMs` until the command has exited; returns every distinct line it showed on the way
   * (a progress bar is redrawn in place: each state it passed through is one line here) and the last screen.
   */
  async untilExit(timeoutMs: number, everyMs = 100): Promise<{ exitCode: number; seen: string[]; screen: string }> {
    const seen = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      for (const line of screen.split('\n')) if (line.trim()) seen.add(line.trimEnd());
      const exit = /^EXIT=(\d+)$/m.exec(screen);
      if (exit) return { exitCode: Number(exit[1]), seen: [...seen], screen };
      if (Date.now() > deadline) throw new Error(`the command did not end within ${timeoutMs} ms; its screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
