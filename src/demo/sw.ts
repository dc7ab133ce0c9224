/// <reference lib="webworker" />
// The demo's service worker: keeps the page shell so the notebook also opens with no network. Data
// lives in IndexedDB and syncs on its own; this only serves the three files that make the page.
export {};

declare const self: ServiceWorkerGlobalScope;

const CACHE = 'engram-demo-shell-v1';
const SHELL = ['/', '/demo/app.js', '/demo/style.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !SHELL.includes(url.pathname))
    return;
  // Network first, so a new build shows at once; the cached copy answers only when the network fails.
  event.respondWith(
    fetch(event.request)
      .then(async (response) => {
        if (response.ok) await (await caches.open(CACHE)).put(event.request, response.clone());
        return response;
      })
      .catch(async () => (await caches.match(event.request)) ?? Response.error()),
  );
});
