-- Route config the init_worker timer loads into the "config" shared dict.
return {
  api_keys = { ["demo-key"] = "demo", ["ops-key"] = "ops" },
  -- requests per window per API key
  rate_limit = { requests = 10, window = 10 },
}
