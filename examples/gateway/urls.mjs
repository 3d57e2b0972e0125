// Prints the gateway demo's curl lines; `pnpm demo` runs it before `phasekit serve`.
const base = 'http://127.0.0.1:8080';
console.log(`phasekit gateway demo — two backends (127.0.0.1:9001, :9002) behind ${base} (Ctrl-C stops it):
  curl -i '${base}/api/items'                                  401: access phase wants an API key
  curl -i -H 'X-API-Key: demo-key' '${base}/api/items'         proxied; X-Upstream says which backend (Lua balancer)
  for i in $(seq 12); do curl -s -o /dev/null -w '%{http_code} ' -H 'X-API-Key: demo-key' '${base}/api/x'; done; echo
                                                                429 after 10 per 10 s (rate limit in a shared dict)
  curl '${base}/status'                                         log-phase stats: average upstream time per backend
`);
