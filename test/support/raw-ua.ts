/**
 * A scriptable SIP endpoint on a real UDP socket for integration tests: sends raw text,
 * collects every message it receives, and waits for one matching a predicate (bounded).
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseDatagram, serialize, SipRequest, SipResponse, type SipMessage, createResponse } from '../../src/sip/index.js';

/** One test endpoint. */
export class RawUa {
  readonly received: SipMessage[] = [];
  private waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  private constructor(private readonly sock: Socket, readonly port: number, private server: { address: string; port: number }) {
    sock.on('message', (buf) => {
      if (buf.length <= 4 && buf.toString().trim() === '') return;
      let m: SipMessage;
      try {
        m = parseDatagram(buf);
      } catch {
        return;
      }
      this.received.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }

  /** Binds a UA on 127.0.0.1 (random port) talking to `server`. */
  static async open(server: { address: string; port: number }): Promise<RawUa> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    return new RawUa(sock, sock.address().port, server);
  }

  /** Sends raw text (LF line ends are turned into CRLF) or a message to the server (or `to`). */
  send(msg: string | SipMessage | Buffer, to: { address: string; port: number } = this.server): void {
    const buf = typeof msg === 'string' ? Buffer.from(msg.replace(/\r?\n/g, '\r\n'), 'latin1') : Buffer.isBuffer(msg) ? msg : serialize(msg);
    this.sock.send(buf, to.port, to.address);
  }

  /** Waits for a message matching `pred` (already received ones count, consumed once). */
  waitFor(pred: (m: SipMessage) => boolean, timeoutMs = 5000, what = 'message'): Promise<SipMessage> {
    const i = this.received.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        pred: (m: SipMessage) => pred(m),
        resolve: (m: SipMessage) => {
          clearTimeout(t);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for ${what} on UA :${this.port}; got: ${this.received.map(describe).join(' | ')}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits for a response with `status` (and optional CSeq method). */
  async response(status: number, method?: string, timeoutMs?: number): Promise<SipResponse> {
    return (await this.waitFor((m) => !m.isRequest && (m as SipResponse).status === status && (!method || m.cseq().method === method), timeoutMs, `${status} ${method ?? ''}`)) as SipResponse;
  }

  /** Waits for a request with `method`. */
  async request(method: string, timeoutMs?: number): Promise<SipRequest> {
    return (await this.waitFor((m) => m.isRequest && (m as SipRequest).method === method, timeoutMs, method)) as SipRequest;
  }

  /** Answers a received request (response goes back to the source of the request: the proxy). */
  reply(req: SipRequest, status: number, opts: { toTag?: string; contact?: boolean; extra?: string[]; body?: string } = {}): SipResponse {
    const r = createResponse(req, status, undefined, opts.toTag ?? (status > 100 ? 'uas' + this.port : undefined));
    if (opts.contact) r.append('Contact', `<sip:ua@127.0.0.1:${this.port}>`);
    for (const rr of req.getAll('record-route')) r.append('Record-Route', rr);
    for (const e of opts.extra ?? []) {
      const c = e.indexOf(':');
      r.append(e.slice(0, c), e.slice(c + 1).trim());
    }
    if (opts.body) r.setBody(Buffer.from(opts.body), 'application/sdp');
    this.send(r);
    return r;
  }

  /** Changes the default destination (the server). */
  retarget(server: { address: string; port: number }): void {
    this.server = server;
  }

  /** Messages received and not yet consumed. */
  drain(): SipMessage[] {
    return this.received.splice(0);
  }

  close(): void {
    this.sock.close();
  }
}

function describe(m: SipMessage): string {
  return m.isRequest ? (m as SipRequest).method : `${(m as SipResponse).status} ${m.get('cseq') ?? ''}`;
}
