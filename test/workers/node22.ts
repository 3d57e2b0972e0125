// Worker threads sharing a port need Node.js >= 22.12: tests that start them run their server in
// a child process under such a Node. When the running Node is older, Node 22 comes from the npm
// registry (`npx -y node@22`, cached after the first fetch; .ci/run fetches it once).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reusePortSupported } from 'phasekit';

export const root = fileURLToPath(new URL('../..', import.meta.url));

let cached: string | undefined;

/** A node binary that has `listen({ reusePort })`. */
export function nodeWithReusePort(): string {
  if (cached !== undefined) return cached;
  if (reusePortSupported()) return (cached = process.execPath);
  const out = execFileSync('npx', ['--yes', 'node@22', '-p', 'process.execPath'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  cached = out.trim().split('\n').pop() as string;
  return cached;
}

/** Runs a script (or the CLI) from TypeScript sources under that node. */
export function spawnNode22(args: readonly string[]): ChildProcess {
  return spawn(nodeWithReusePort(), ['--conditions=source', '--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a child's stdout + stderr; `waitFor(re)` resolves with the first match. */
export function watchOutput(child: ChildProcess): { text: () => string; waitFor: (re: RegExp, ms?: number) => Promise<RegExpExecArray> } {
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    text: () => text,
    waitFor: (re, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(text);
          if (m !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re}; output:\n${text}`));
        }, ms);
        waiters.add(check);
        child.once('exit', (code) => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`exited ${code} before ${re}; output:\n${text}`));
        });
        check();
      }),
  };
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));
}
