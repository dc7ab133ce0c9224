/** Vite's `?url` imports: the URL the test server serves the file at (the sql.js WebAssembly). */
declare module '*?url' {
  const url: string;
  export default url;
}

/** Vite's `?raw` imports: the file's text (the demo page's HTML). */
declare module '*?raw' {
  const text: string;
  export default text;
}
