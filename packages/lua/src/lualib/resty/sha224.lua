-- lua-resty-string's resty.sha224 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("sha224")
