-- lua-resty-string's resty.sha384 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("sha384")
