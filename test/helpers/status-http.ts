/** Plain HTTP requests to the status port, with every header in the test's hands (Host, Origin, Cookie). */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface StatusAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): Record<string, unknown>;
}

export function statusRequest(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<StatusAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: opts.headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Logs in with a key; the session cookie (name=value) and CSRF token, or the refusal. */
export async function statusLogin(port: number, key: string): Promise<{ answer: StatusAnswer; cookie: string; csrfToken: string }> {
  const answer = await statusRequest(port, 'POST', '/login', {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: `http://127.0.0.1:${port}`, Host: `127.0.0.1:${port}` },
    body: new URLSearchParams({ key }).toString(),
  });
  const setCookie = answer.headers['set-cookie']?.[0] ?? '';
  return { answer, cookie: setCookie.split(';')[0], csrfToken: answer.status === 200 ? String(answer.json().csrfToken) : '' };
}

/** Opens the page's event stream and resolves with its response once the first message (hello) arrived, and that message's text. */
export function openStatusStream(port: number, headers: Record<string, string>): Promise<{ res: IncomingMessage; first: string; status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/stream', headers }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ res, first: body, status: res.statusCode ?? 0, close: () => req.destroy() }));
        return;
      }
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString();
        if (!text.includes('\n\n')) return;
        res.off('data', onData);
        res.resume();
        resolve({ res, first: text, status: 200, close: () => req.destroy() });
      };
      res.on('data', onData);
    });
    req.on('error', reject);
    req.end();
  });
}
