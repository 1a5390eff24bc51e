import type { FetchFunction } from '@slack/web-api';
import type { Dispatcher, request as undiciRequest } from 'undici';

type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** undici on first use (it stays out of the start-up graph); keep-alive connections shared by every WebClient of the process. */
let undici: Promise<{ request: typeof undiciRequest; agent: Dispatcher }> | undefined;
const load = () => (undici ??= import('undici').then(({ Agent, request }) => ({ request, agent: new Agent({ keepAliveTimeout: 30_000 }) })));

/**
 * The `fetch` the Slack WebClients call with: a Web API call (a POST with a form body) goes through
 * undici's `request`, without the WHATWG fetch's streams and Request and Response objects (a tenth of
 * the hub's CPU in the Slack benchmark's profile); the answer is read whole, as the WebClient reads it anyway. Anything
 * else (file uploads: a binary or multipart body) goes to the global fetch. Redirects are not followed,
 * as with the WebClient's own `redirect: 'error'` (a 3xx is an HTTP error to it).
 */
export const slackFetch: FetchFunction = async (input, init) => {
  if (typeof init?.body !== 'string' || (init.method ?? 'GET') !== 'POST') return (await fetch(input, init as RequestInit)) as unknown as FetchResponse;
  const url = String(input);
  const { request, agent } = await load();
  const res = await request(url, { method: 'POST', headers: init.headers as Record<string, string>, body: init.body, signal: init.signal, dispatcher: agent });
  const body = await res.body.text();
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  const answer: FetchResponse = {
    status: res.statusCode,
    statusText: '',
    ok: res.statusCode >= 200 && res.statusCode < 300,
    url,
    headers: headers as unknown as FetchResponse['headers'],
    text: async () => body,
    json: async () => JSON.parse(body) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(body).buffer as ArrayBuffer,
  };
  return answer;
};
