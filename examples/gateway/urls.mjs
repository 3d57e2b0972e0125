// Prints the gateway demo's curl lines; `pnpm demo` runs it before `phasekit serve`.
const base = 'http://127.0.0.1:8080';
console.log(`phasekit gateway demo — two backends (127.0.0.1:9001, :9002) behind ${base}, built from plugins (Ctrl-C stops it):
  curl -i '${base}/api/items'                                   401: key-auth wants an API key
  curl -i -H 'apikey: demo-key' '${base}/api/items'             proxied: X-Upstream names the backend (round robin),
                                                                 X-Plan: free (the demo's Lua plugin), RateLimit-*, Kong-Request-ID
  curl -i '${base}/api/items?apikey=ops-key'                     X-Plan: gold; mallory-key gets 403 from the Lua plugin
  for i in $(seq 11); do curl -s -o /dev/null -w '%{http_code} ' -H 'apikey: demo-key' '${base}/api/x'; done; echo
                                                                 429 after 10 a minute (rate-limiting, per consumer)
  curl -i -X OPTIONS -H 'Origin: http://localhost:3000' -H 'Access-Control-Request-Method: GET' '${base}/public/hi'
                                                                 a CORS preflight answered by the cors plugin
  curl -i '${base}/nowhere'                                     404: no route matched
  curl '${base}/metrics'                                         prometheus: requests by route and status, latency, target health
Edit examples/gateway/routes.json while it runs (say "minute": 3, or a new route): it applies within a second, no restart.
  GATEWAY_BACKEND_PORTS=0,0 npx --yes pnpm@9.15.9 exec phasekit plugins examples/gateway/phasekit.mjs
                                                                 the order the plugins run in, per route
`);
