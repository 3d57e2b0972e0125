-- lua-resty-string's resty.sha1 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("sha1")
