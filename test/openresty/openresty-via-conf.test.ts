// The OpenResty differential suite once more, every case served from the nginx.conf the recorder
// gave nginx (nginx-conf.mjs), mapped by loadNginxConf's mapping: the same recordings, the same
// comparison (see openresty.test.ts).
process.env.OPENRESTY_VIA = 'nginx-conf';
await import('./openresty.test.js');
