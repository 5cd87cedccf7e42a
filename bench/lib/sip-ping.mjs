// Readiness probe: sends SIP OPTIONS over UDP to HOST:PORT until any SIP response arrives.
//   node bench/lib/sip-ping.mjs HOST PORT [TIMEOUT_MS]
// Exit 0 with the status line on stdout when answered; exit 1 after TIMEOUT_MS (default 20000).
/* global process, setTimeout, setInterval, clearInterval */
import dgram from 'node:dgram';
import crypto from 'node:crypto';

const [host = '127.0.0.1', portArg, timeoutArg] = process.argv.slice(2);
const port = Number(portArg);
const timeoutMs = Number(timeoutArg ?? 20000);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: sip-ping.mjs HOST PORT [TIMEOUT_MS]\n');
  process.exit(2);
}

const sock = dgram.createSocket('udp4');
const callId = crypto.randomBytes(8).toString('hex');
let cseq = 0;

function send() {
  const { port: lport } = sock.address();
  cseq += 1;
  const branch = `z9hG4bK-ping-${callId}-${cseq}`;
  const msg = [
    `OPTIONS sip:${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:ping@127.0.0.1>;tag=${callId}`,
    `To: <sip:${host}:${port}>`,
    `Call-ID: ${callId}@bench`,
    `CSeq: ${cseq} OPTIONS`,
    'Accept: application/sdp',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
  sock.send(msg, port, host);
}

sock.on('message', (buf) => {
  const first = buf.toString('utf8').split('\r\n', 1)[0];
  if (first.startsWith('SIP/2.0 ')) {
    process.stdout.write(`${first}\n`);
    clearInterval(timer);
    sock.close();
    process.exit(0);
  }
});
sock.on('error', () => { /* ICMP port unreachable while the server is still starting */ });

let timer;
sock.bind(0, '127.0.0.1', () => {
  send();
  timer = setInterval(send, 250);
});
setTimeout(() => {
  process.stderr.write(`no SIP response from ${host}:${port} within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs);
