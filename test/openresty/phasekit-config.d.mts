// Types of phasekit-config.mjs for the TypeScript runner.
import type { EngineConfig } from 'phasekit';
import type { TestCase } from './suite.mjs';

export function phasekitConfig(testCase: TestCase, options: { dir: string }): EngineConfig;
