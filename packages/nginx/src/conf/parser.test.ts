import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NginxConfError } from '../errors.js';
import { fileIncluder } from './include.js';
import { unescape } from './lexer.js';
import { readLuaBlock } from './lua-block.js';
import { parseConf, type Directive } from './parser.js';

const names = (ds: readonly Directive[]): string[] => ds.map((d) => d.name);
const fails = (text: string, message: string, line: number) => {
  try {
    parseConf(text, 'nginx.conf');
  } catch (err) {
    expect(err).toBeInstanceOf(NginxConfError);
    expect((err as NginxConfError).message).toBe(`${message} in nginx.conf:${line}`);
    expect((err as NginxConfError).code).toBe('PHASEKIT_ERR_NGINX_CONF');
    expect((err as NginxConfError).line).toBe(line);
    return;
  }
  expect.fail('parsed');
};

describe('the Lua-aware block reader', () => {
  const end = (code: string) => readLuaBlock(`${code}}`, 0).end;

  it.each([
    ['a "}" in a string', 'local s = "}"'],
    ["a '{' in a single-quoted string", "local s = '{'"],
    ['a } in a long string', 'local s = [[ } ]]'],
    ['a } in a level-2 long string holding ]]', 'local s = [==[ ]] } ]==]'],
    ['a } in a long comment', '--[==[ } ]==] local x = 1'],
    ['a } in a line comment', '-- } {\nlocal x = 1\n'],
    ['an escaped quote before a }', 'local s = "\\"}"'],
    ['nested table braces', 'local t = { a = { 1, {} } }'],
  ])('%s', (_what, code) => {
    expect(end(code)).toBe(code.length);
  });

  it('reports an unfinished string, long string and block', () => {
    expect(readLuaBlock('ngx.say("x) }', 0)).toEqual({ end: -1, error: 'Lua code: unfinished string' });
    expect(readLuaBlock('local s = [[ } ', 0)).toEqual({ end: -1, error: 'Lua code: unfinished long string' });
    expect(readLuaBlock('--[[ } ', 0)).toEqual({ end: -1, error: 'Lua code: unfinished long comment' });
    expect(readLuaBlock('if x then {', 0).end).toBe(-1);
  });
});

describe('the nginx.conf grammar', () => {
  it('reads blocks, directives and arguments with their lines', () => {
    const ds = parseConf('http {\n  server {\n    listen 80;\n    location / { return 200 ok; }\n  }\n}\n', 'nginx.conf');
    expect(names(ds)).toEqual(['http']);
    const server = ds[0]?.block?.[0] as Directive;
    expect(server.line).toBe(2);
    expect(names(server.block ?? [])).toEqual(['listen', 'location']);
    const loc = server.block?.[1] as Directive;
    expect(loc.args.map((a) => a.value)).toEqual(['/']);
    expect(loc.block?.[0]?.args.map((a) => a.value)).toEqual(['200', 'ok']);
    expect(loc.block?.[0]?.line).toBe(4);
  });

  it('applies nginx escapes in quoted and bare words; quotes mark the word', () => {
    const [d] = parseConf(`set $x 'a\\tb\\nc\\\\d\\e\\'' "q\\"r" x\\;y "" $y;`, 'nginx.conf');
    expect(d?.args.map((a) => a.value)).toEqual(['$x', "a\tb\nc\\d\\e'", 'q"r', 'x\\;y', '', '$y']);
    expect(d?.args.map((a) => a.quoted)).toEqual([false, true, true, false, true, false]);
    expect(unescape('\\"\\\\\\x')).toBe('"\\\\x');
  });

  it('skips comments; # inside a word is part of it; ${var} braces belong to the word', () => {
    const ds = parseConf('# top { }\nset $a x#y; # after\nset $b ${a}z;', 'nginx.conf');
    expect(ds.map((d) => d.args.map((a) => a.value))).toEqual([['$a', 'x#y'], ['$b', '${a}z']]);
  });

  it('keeps a *_by_lua_block body verbatim, braces in Lua strings and comments included', () => {
    const code = ` local s = "}" .. [[ } ]] --[==[ } ]==]\n  ngx.say(s) `;
    const [d] = parseConf(`content_by_lua_block {${code}}\nlisten 80;`, 'nginx.conf');
    expect(d?.lua).toBe(code);
    expect(d?.line).toBe(1);
    const ds = parseConf(`set_by_lua_block $x { return "}" }\nlisten 80;`, 'nginx.conf');
    expect(ds.map((x) => [x.name, x.args.map((a) => a.value), x.lua])).toEqual([['set_by_lua_block', ['$x'], ' return "}" '], ['listen', ['80'], undefined]]);
  });

  it('names file and line in parse errors', () => {
    fails('location / { return 200 }', 'unexpected "}"', 1);
    fails('http {\n  server {\n', 'unexpected end of file, expecting "}"', 3);
    fails('}\n', 'unexpected "}"', 1);
    fails('listen 80', 'unexpected end of file, expecting ";" or "}"', 1);
    fails('set $a "x"y;', 'unexpected "y"', 1);
    fails('set $a "x;\n', 'unexpected end of file, expecting ";" or "}"', 2);
    fails('\ncontent_by_lua_block { ngx.say("}) }\n', 'content_by_lua_block: Lua code: unfinished string', 2);
  });
});

describe('include', () => {
  it('reads a glob in sorted order, relative to the conf prefix, wherever it stands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-include-'));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d/b.conf'), 'set $b 2;\n');
    writeFileSync(join(dir, 'conf.d/a.conf'), 'set $a 1;\ninclude inner.conf;\n');
    writeFileSync(join(dir, 'inner.conf'), 'set $inner 3;\n');
    const ds = parseConf('server {\n  include conf.d/*.conf;\n  include none/*.conf;\n}', join(dir, 'nginx.conf'), fileIncluder(dir));
    const inside = ds[0]?.block ?? [];
    expect(inside.map((d) => d.args[0]?.value)).toEqual(['$a', '$inner', '$b']);
    expect(inside.map((d) => [d.file.slice(dir.length), d.line])).toEqual([['/conf.d/a.conf', 1], ['/inner.conf', 1], ['/conf.d/b.conf', 1]]);
  });

  it('a missing file is an error naming the include line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-include-'));
    expect(() => parseConf('\ninclude missing.conf;', join(dir, 'nginx.conf'), fileIncluder(dir))).toThrow(`open() "${join(dir, 'missing.conf')}" failed (No such file or directory) in ${join(dir, 'nginx.conf')}:2`);
  });

  it('an include loop stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-include-'));
    writeFileSync(join(dir, 'self.conf'), 'include self.conf;\n');
    expect(() => parseConf('include self.conf;', join(dir, 'nginx.conf'), fileIncluder(dir))).toThrow(/nested more than 32 deep/);
  });
});
