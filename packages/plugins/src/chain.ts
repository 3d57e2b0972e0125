// A chain: the ordered plugin instances of one location (or dynamic route), and how each phase runs
// them. Request phases (rewrite, access) stop at the first plugin that ends the request (ngx.exit,
// output), as Kong's; the response phases run every plugin; the location's own handler runs last.

import { channel } from 'node:diagnostics_channel';
import { requestControl, type CompiledHandler, type Ngx, type RequestControl } from '@phasekit/core';
import { PluginError } from './errors.js';
import { PLUGIN_PHASES, type PluginPhase, type PluginSite, type PluginSpec, type RuntimeMethod } from './types.js';

/** One configured plugin of a chain: the plugin and its conf as its methods receive it. */
export interface PluginInstance {
  readonly spec: PluginSpec;
  readonly conf: unknown;
  /** The validated conf (as JSON-able data), for describing the chain. */
  readonly config: unknown;
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/** Per-plugin timing, published when someone subscribes: `{ plugin, phase, location, route, ms, failed }`. */
export const pluginTiming = channel('phasekit:plugin:timing');

export interface PluginTimingInfo {
  plugin: string;
  phase: PluginPhase;
  location: string;
  route: string | undefined;
  /** Milliseconds the method took (until its promise settled, when it waited). */
  ms: number;
  failed: boolean;
}

interface Step {
  readonly name: string;
  readonly fn: RuntimeMethod;
  readonly conf: unknown;
}

export class Chain {
  readonly site: PluginSite;
  readonly instances: readonly PluginInstance[];
  readonly #steps: Readonly<Record<PluginPhase, readonly Step[]>>;

  constructor(site: PluginSite, ordered: readonly PluginInstance[]) {
    this.site = site;
    this.instances = ordered;
    const steps = {} as Record<PluginPhase, Step[]>;
    for (const phase of PLUGIN_PHASES) {
      steps[phase] = ordered.flatMap((i) => {
        const fn = i.spec.methods[phase];
        return fn === undefined ? [] : [{ name: i.spec.name, fn, conf: i.conf }];
      });
    }
    this.#steps = steps;
  }

  has(phase: PluginPhase): boolean {
    return this.#steps[phase].length > 0;
  }

  /**
   * rewrite / access: each plugin in order until one ends the request (then neither the later
   * plugins nor `own` run); a promise when a method waits. A throw names the plugin.
   */
  runRequest(phase: 'rewrite' | 'access', ngx: Ngx, own: CompiledHandler | undefined): unknown {
    const steps = this.#steps[phase];
    if (steps.length === 0) return own?.(ngx);
    return this.#from(steps, 0, phase, ngx, own, requestControl(ngx));
  }

  #from(steps: readonly Step[], i: number, phase: PluginPhase, ngx: Ngx, own: CompiledHandler | undefined, control: RequestControl | undefined): unknown {
    for (; i < steps.length; i++) {
      const step = steps[i] as Step;
      const r = this.#call(step, phase, ngx);
      if (isThenable(r)) {
        const at = i;
        return Promise.resolve(r).then(() => (ended(control) ? undefined : this.#from(steps, at + 1, phase, ngx, own, control)));
      }
      if (ended(control)) return undefined;
    }
    return own?.(ngx);
  }

  /** header_filter, body_filter, balancer: every plugin, then `own`; none may wait. */
  runFilter(phase: 'headerFilter' | 'bodyFilter' | 'balancer', ngx: Ngx, own: CompiledHandler | undefined): unknown {
    const steps = this.#steps[phase];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as Step;
      const r = this.#call(step, phase, ngx);
      if (isThenable(r)) {
        Promise.resolve(r).catch(() => undefined);
        throw new PluginError(step.name, phase, new Error(`the ${phase} method returned a promise: ${phase} cannot wait`));
      }
    }
    return own?.(ngx);
  }

  /**
   * log: every plugin, then `own`. One plugin's failure is logged (`report`) and the others still
   * run: the response is sent, nothing is left to fail.
   */
  runLog(ngx: Ngx, own: CompiledHandler | undefined, report: (err: PluginError) => void): unknown {
    return this.#logFrom(this.#steps.log, 0, ngx, own, report);
  }

  #logFrom(steps: readonly Step[], i: number, ngx: Ngx, own: CompiledHandler | undefined, report: (err: PluginError) => void): unknown {
    for (; i < steps.length; i++) {
      let r: unknown;
      try {
        r = this.#call(steps[i] as Step, 'log', ngx);
      } catch (err) {
        report(err as PluginError);
        continue;
      }
      if (isThenable(r)) {
        const at = i;
        return Promise.resolve(r).then(
          () => this.#logFrom(steps, at + 1, ngx, own, report),
          (err: unknown) => {
            report(err as PluginError);
            return this.#logFrom(steps, at + 1, ngx, own, report);
          },
        );
      }
    }
    return own?.(ngx);
  }

  /** One method call: its failure (throw or rejection) becomes a PluginError; timed when someone listens. */
  #call(step: Step, phase: PluginPhase, ngx: Ngx): unknown {
    if (!pluginTiming.hasSubscribers) {
      let r: unknown;
      try {
        r = step.fn(ngx, step.conf);
      } catch (err) {
        throw new PluginError(step.name, phase, err);
      }
      if (isThenable(r)) return Promise.resolve(r).catch((err: unknown) => Promise.reject(new PluginError(step.name, phase, err)));
      return r;
    }
    const t0 = performance.now();
    const done = (failed: boolean) => {
      const info: PluginTimingInfo = { plugin: step.name, phase, location: this.site.location, route: this.site.route, ms: performance.now() - t0, failed };
      pluginTiming.publish(info);
    };
    let r: unknown;
    try {
      r = step.fn(ngx, step.conf);
    } catch (err) {
      done(true);
      throw new PluginError(step.name, phase, err);
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        (v) => {
          done(false);
          return v;
        },
        (err: unknown) => {
          done(true);
          return Promise.reject(new PluginError(step.name, phase, err));
        },
      );
    }
    done(false);
    return r;
  }
}

function ended(control: RequestControl | undefined): boolean {
  return control !== undefined && (control.ended || control.headersSent);
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
