// ngx.worker.*: one worker here (worker_processes 1); several workers are tested in test/workers/.
import { content, locs } from '../case-helpers.mjs';

const D = { sharedDicts: { d: '1m' } };

export default [
  content('worker: pids() is a table of the worker pids', 'local p = ngx.worker.pids()\nngx.say(type(p), " ", #p, " ", p[1] == ngx.worker.pid(), " ", type(p[1]))'),
  content('worker: id() and count() in content', 'ngx.say(ngx.worker.id(), " ", ngx.worker.count())'),
  locs('worker: pids() is refused in init_worker', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("pids"))' }], [{}], { ...D, initWorker: 'local p, err = ngx.worker.pids()\nngx.shared.d:set("pids", tostring(p) .. " " .. tostring(err))' }),
  locs('worker: pids() is refused in init', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("pids"))' }], [{}], { ...D, init: 'local p, err = ngx.worker.pids()\nngx.shared.d:set("pids", tostring(p) .. " " .. tostring(err))' }),
  locs('worker: id() and count() in init_worker', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("w"))' }], [{}], { ...D, initWorker: 'ngx.shared.d:set("w", ngx.worker.id() .. " " .. ngx.worker.count())' }),
  locs('worker: pids() in a timer', [{ match: '= /start', content: 'ngx.timer.at(0, function() local p = ngx.worker.pids() ngx.shared.d:set("n", #p) end)\nngx.say("started")' }, { match: '= /check', content: 'ngx.sleep(0.05)\nngx.say(ngx.shared.d:get("n"))' }], [{ path: '/start' }, { path: '/check' }], D),
];
