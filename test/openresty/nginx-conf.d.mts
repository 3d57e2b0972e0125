// Types of nginx-conf.mjs for the TypeScript runner.
import type { TestCase } from './suite.mjs';

export function quote(s: string): string;
export function absolutePackagePath(path: string, dir: string): string;
export function nginxConf(testCase: TestCase, options: { port: number; prefix: string; dir: string; modules?: string[]; lualib?: string[] }): string;
