// The live page's bytes: sidecar/page/index.html, and sidecar/page/page.ts built into page.js.
// The build puts them here: bundle.mjs replaces this module in the sidecar's bundle with one that
// holds them (sidecar/page/build.ts), so the image still ships one file. Unbundled, PAGE is
// undefined, and whoever creates the server passes the files (tests take them from buildPage()).

/** The page as the server sends it, at `/` and `/page.js`. */
export type PageFiles = { html: string; script: string };

export const PAGE: PageFiles | undefined = undefined;
