// What per-request shortcuts must not change: ngx.ctx starts empty for every request (also after
// one that replaced it), and ngx.say/ngx.print of one string give what they give for any arguments.
import { at, content, gets } from '../case-helpers.mjs';

const CTX = {
  rewrite: 'if ngx.var.arg_replace then ngx.ctx = { replaced = ngx.var.arg_n } end',
  access: 'ngx.ctx.seen = (ngx.ctx.seen or 0) + 1',
  content: 'ngx.say(tostring(ngx.ctx.n), " ", tostring(ngx.ctx.replaced), " ", ngx.ctx.seen) ngx.ctx.n = ngx.var.arg_n',
  log: 'ngx.ctx.logged = true',
};

export default [
  at('per-request: ngx.ctx is new for each request, also after a replaced one', CTX, gets('/?n=1', '/?n=2&replace=1', '/?n=3', '/?n=4&replace=1', '/?n=5')),
  content('per-request: say and print of one string', 'ngx.say("a") ngx.print("b") ngx.say("") ngx.print("") ngx.say("c\\0d") ngx.print("\\n")'),
  content('per-request: say of one string beside other forms', 'ngx.say("x") ngx.say("x", "y") ngx.say({ "x", "y" }) ngx.say(1) ngx.print("z", "\\n")'),
  at('per-request: body_filter sets ngx.arg[1] to one string', { content: 'ngx.say("hello") ngx.say("world")', bodyFilter: 'ngx.arg[1] = string.upper(ngx.arg[1])' }),
];
