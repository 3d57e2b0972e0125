-- lua-resty-core's ngx.process for phasekit: one worker process, no privileged agent.
local native = select(2, ...)
local base = require "resty.core.base"
local _M = { version = base.version }

function _M.type() return "worker" end

function _M.enable_privileged_agent(connections)
  if ngx.get_phase() ~= "init" then return nil, "API disabled in the current context" end
  return nil, "phasekit has no privileged agent process"
end

function _M.signal_graceful_exit() end

function _M.get_master_pid() return native.master_pid end

return _M
