// Tests run against TypeScript sources: workspace packages resolve to src/, no build first.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@phasekit\/(core|node-http|testing|lua|fastify|express|haproxy|nginx|plugins)$/, replacement: src('$1') },
      { find: /^phasekit$/, replacement: src('phasekit') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
