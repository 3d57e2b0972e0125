// Location matching (=, ^~, ~, ~*, longest prefix, regex order) and URI normalization.
import { locs } from '../case-helpers.mjs';

/** A location answering with its own label and the normalized uri. */
const L = (match, label = match) => ({ match, content: `ngx.say(${JSON.stringify(label)}, " ", ngx.var.uri)` });
const m = (name, locations, paths) => locs(`location: ${name}`, locations, paths.map((p) => (typeof p === 'string' ? { path: p } : p)));

export default [
  m('exact beats prefix', [L('/a'), L('= /a')], ['/a', '/ab', '/a/']),
  m('exact root only', [L('= /'), L('/x')], ['/', '/y']),
  m('longest prefix wins', [L('/a'), L('/a/b'), L('/a/b/c')], ['/a/x', '/a/b/x', '/a/b/c/x', '/a/bc']),
  m('prefix order does not matter', [L('/a/b/c'), L('/a'), L('/a/b')], ['/a/b/x', '/a/b/c']),
  m('regex beats prefix', [L('/img/'), L('~ \\.png$', 'regex')], ['/img/x.png', '/img/x.jpg']),
  m('^~ stops the regexes', [L('^~ /static/'), L('~ \\.png$', 'regex')], ['/static/x.png', '/other/x.png']),
  m('^~ only when it is the longest prefix', [L('^~ /s/'), L('/s/deep/'), L('~ \\.png$', 'regex')], ['/s/deep/x.png', '/s/x.png']),
  m('first matching regex in config order', [L('~ /a', 'first'), L('~ /a/b', 'second')], ['/a/b', '/x/a']),
  m('regexes after a prefix in config order', [L('~ b', 'b-regex'), L('/'), L('~ a', 'a-regex')], ['/ab', '/ba', '/c']),
  m('~ is case-sensitive', [L('/'), L('~ ^/CaSe$', 'regex')], ['/CaSe', '/case']),
  m('~* is case-insensitive', [L('/'), L('~* ^/case$', 'regex')], ['/CASE', '/case', '/cAsE']),
  m('prefix is case-sensitive', [L('/A'), L('/', 'root')], ['/A', '/a']),
  m('prefix matches a longer path', [L('/api')], ['/api', '/apiv2', '/api/x']),
  m('a trailing slash prefix does not match without it', [L('/dir/'), L('= /other')], ['/dir', '/dir/', '/dir/x']),
  m('no location matches', [L('= /only')], ['/nope', '/only']),
  m('a named location cannot be requested', [L('@named'), L('= /x')], ['/@named', '@named']),
  m('an internal location is 404 from outside', [{ match: '/int', internal: true, content: 'ngx.say("internal")' }, L('= /x')], ['/int']),
  m('regex with an anchor and captures', [{ match: '~ ^/users/(\\d+)/posts/(\\d+)$', content: 'ngx.say(ngx.var[1], "/", ngx.var[2])' }], ['/users/3/posts/14', '/users/x/posts/1']),
  m('exact with a query string', [L('= /q')], ['/q?x=1']),
  m('matching uses the decoded uri', [L('= /a b'), L('/a', 'prefix')], ['/a%20b', '/%61']),
  m('regex matching uses the decoded uri', [L('/', 'root'), L('~ ^/sp ace$', 'regex')], ['/sp%20ace']),
  m('dot segments are resolved', [L('/b'), L('/a')], ['/a/../b', '/a/./b', '/a/x/../../b/c']),
  m('double slashes are merged', [L('= /x/y'), L('/', 'root')], ['//x//y', '/x//y']),
  m('%2F is decoded to a slash', [L('= /a/b'), L('/', 'root')], ['/a%2Fb', '/a%2fb']),
  m('encoded dots are resolved', [L('/b'), L('/', 'root')], ['/a/%2E%2E/b']),
  m('climbing above the root', [L('/', 'root')], ['/..', '/a/../..', '/../x']),
  m('a bad percent escape', [L('/', 'root')], ['/%zz', '/a%4']),
  m('a %00 in the path', [L('/', 'root')], ['/a%00b']),
  m('a percent-encoded slash at the end', [L('/', 'root')], ['/a%2F']),
  m('a trailing dot segment', [L('/', 'root')], ['/a/.', '/a/..']),
  m('a path with a plus sign', [L('/', 'root')], ['/a+b']),
  m('a path with UTF-8 escapes', [{ match: '/', content: 'ngx.say(#ngx.var.uri, " ", ngx.var.request_uri)' }], ['/caf%C3%A9', '/caf%E9']),
  m('a request target without a leading slash', [L('/', 'root')], [{ raw: 'GET x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' }]),
  m('an absolute-form request target', [L('/', 'root')], [{ raw: 'GET http://localhost/abs?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' }]),
  m('an asterisk request target', [L('/', 'root')], [{ raw: 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' }]),
  m('HEAD to a location', [L('/', 'root')], [{ method: 'HEAD', path: '/h' }]),
  m('exact match for a path with a trailing slash', [L('= /t/'), L('= /t')], ['/t/', '/t']),
  m('a regex that matches the args is not tried on them', [L('/', 'root'), L('~ x=1', 'regex')], ['/p?x=1']),
];
