-- lua-resty-string's resty.sha256 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("sha256")
