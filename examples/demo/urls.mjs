// Prints the demo's URLs to try; `pnpm demo` runs it before `phasekit serve`.
const base = 'http://127.0.0.1:8080';
console.log(`phasekit demo — try these while it runs (Ctrl-C stops it):
  curl '${base}/hello?name=you'
  curl -i '${base}/api/items?key=demo'        (Lua in rewrite → access → content → filters → log)
  curl -i ${base}/api/items                    (401: access phase, no key)
  curl '${base}/api/items?key=demo&shout=1'    (body_filter upper-cases)
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' '${base}/api/x?key=demo'; done   (429 after 5)
  curl -i ${base}/old                          (301 redirect)
  curl ${base}/status                          (counters kept by the log phase in a shared dict)
`);
