// Sample expressions, action references, names and the built-in converters, without a request.
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from './builtins.js';
import { HaproxyRegistry, luaName, methodName } from './registry.js';
import { compileTemplate, parseCall } from './sample.js';
import type { Txn } from './types.js';

const convert = (name: string, value: string, ...args: string[]) => builtinRegistry().converter(name)?.fn(value, ...args);

describe('parseCall', () => {
  it('reads a name and its arguments: quotes, escapes, spaces trimmed, empty arguments kept', () => {
    expect(parseCall('lua.auth')).toEqual({ name: 'lua.auth', args: [] });
    expect(parseCall('lua.auth()')).toEqual({ name: 'lua.auth', args: [] });
    expect(parseCall(`lua.tag(a, 'b,c', "d)", e\\,f,)`)).toEqual({ name: 'lua.tag', args: ['a', 'b,c', 'd)', 'e,f', ''] });
    expect(() => parseCall('lua.tag(a')).toThrow('"lua.tag(" is not closed');
    expect(() => parseCall('lua.tag(a) x')).toThrow('unexpected "x" after "lua.tag(a)"');
  });
});

describe('compileTemplate', () => {
  const registry = new HaproxyRegistry(builtinRegistry());
  registry.addFetch('one', () => 'One');
  registry.addFetch('nothing', () => undefined);
  registry.addConverter('twice', (v) => v + v);
  const txn = { ngx: { var: { x: 'X' } } } as unknown as Txn;

  it('evaluates fetch and converter chains, literal text and $variables', () => {
    expect(compileTemplate('%[lua.one,lower,lua.twice]', registry)(txn)).toBe('oneone');
    expect(compileTemplate('a-$x-${x}b-%[lua.one]%[lua.nothing]!', registry)(txn)).toBe('a-X-Xb-One!');
    expect(compileTemplate('%[lua.nothing,upper]', registry)(txn)).toBeUndefined();
    expect(compileTemplate('plain 100%', registry)(txn)).toBe('plain 100%');
  });

  it('names what it does not know, and arity of built-ins', () => {
    expect(() => compileTemplate('%[lua.two]', registry)).toThrow('unknown sample fetch "lua.two" in "%[lua.two]"');
    expect(() => compileTemplate('%[lua.one,nope(1)]', registry)).toThrow('unknown converter "nope" in "%[lua.one,nope(1)]"');
    expect(() => compileTemplate('%[url_param]', registry)).toThrow('sample fetch "url_param" takes 1 to 2 arguments, got 0');
    expect(() => compileTemplate('%[lua.one,lower(x)]', registry)).toThrow('converter "lower" takes 0 arguments, got 1');
    expect(() => compileTemplate('%[lua.one', registry)).toThrow('"%[lua.one" is not closed by "]"');
  });
});

describe('names', () => {
  it('lua. prefix, Lua method names, one registration per name', () => {
    expect(luaName('geo')).toBe('lua.geo');
    expect(luaName('lua.geo')).toBe('lua.geo');
    expect(() => luaName('bad name')).toThrow('bad name "bad name"');
    expect(methodName('req.hdr')).toBe('req_hdr');
    expect(methodName('lua.hello-world')).toBe('lua_hello_world');
    const parent = new HaproxyRegistry(builtinRegistry());
    parent.addConverter('tag', (v) => v);
    const child = new HaproxyRegistry(parent);
    expect(() => child.addConverter('tag', (v) => v)).toThrow('converter "lua.tag" is already registered');
    expect(child.converterMethod('lua_tag')?.name).toBe('lua.tag');
    expect(child.fetchMethod('url_param')?.name).toBe('url_param');
  });
});

describe('built-in converters', () => {
  it('url_dec: + is a space in a form or after ?; bad escapes stay', () => {
    expect(convert('url_dec', 'a+b%20c%zz')).toBe('a+b c%zz');
    expect(convert('url_dec', 'a+b', '1')).toBe('a b');
    expect(convert('url_dec', '/p+q?x=a+b')).toBe('/p+q?x=a b');
    expect(convert('url_dec', '%C3%A9')).toBe('é');
  });

  it('json, base64, b64dec, length', () => {
    expect(convert('json', 'a"b\\c/\n\t\u0001é😀')).toBe('a\\"b\\\\c\\/\\n\\t\\u0001\\u00e9\\ud83d\\ude00');
    expect(convert('base64', 'é')).toBe('w6k=');
    expect(convert('b64dec', 'w6k=')).toBe('é');
    expect(convert('b64dec', 'not base64!')).toBeUndefined();
    expect(convert('length', 'é')).toBe(2);
  });
});
