-- lua-resty-string's resty.sha512 for phasekit (node:crypto underneath).
return require("phasekit.digest").module("sha512")
