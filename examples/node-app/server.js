// coldbench example app: one small HTTP server, no npm packages.
// Listens on $HOST:$PORT (default 127.0.0.1:8080); GET / answers 200 with a short text.
'use strict';

const http = require('http');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 8080);

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('hello from node-app\n');
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
});

server.listen(port, host, () => {
  console.log(`node-app: listening on http://${host}:${port} (node ${process.version})`);
});

// Exit at once on `docker stop` (as PID 1, node gets no default signal handlers).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
