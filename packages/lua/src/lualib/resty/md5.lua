-- lua-resty-string's resty.md5 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("md5", true)
