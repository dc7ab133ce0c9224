import type { Handler } from 'hono';

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Engram</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style>
<h1>Engram is running</h1>
<p>The memory API is served under <code>/v1/ns/:ns/</code>; <a href="/health">/health</a> reports on the store.</p>
<p>Every <code>/v1</code> request needs <code>Authorization: Bearer &lt;token&gt;</code> (mint one with <code>engram token</code>).</p>
`;

/** `GET /`: the demo page, or a short note that the API runs until a bundled page is passed in. */
export function demoHandler(html: string | true): Handler {
  const page = html === true ? PLACEHOLDER : html;
  return (c) => c.html(page);
}
