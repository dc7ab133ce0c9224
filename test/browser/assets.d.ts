/** Vite's `?url` imports: the URL the test server serves the file at (the sql.js WebAssembly). */
declare module '*?url' {
  const url: string;
  export default url;
}
