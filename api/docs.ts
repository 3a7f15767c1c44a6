/**
 * GET /docs: the OpenAPI document (/openapi.json, api/openapi.ts) as a page,
 * drawn by Swagger UI (the `swagger-ui-dist` package) served from this
 * process's node_modules: no CDN, nothing fetched from elsewhere, public.
 *
 * A Content-Security-Policy allows only this origin (scripts, styles, images,
 * fetches), so the browser itself refuses any outside load the bundle might
 * try; the online validator badge is off (`validatorUrl: null`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RequestHandler } from 'express';

const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The files the page loads, and nothing else of the package (its index.html points at a demo document). */
const ASSETS = new Set(['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'favicon-16x16.png']);

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes on its elements
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  // the document itself, and "Try it out" against this API
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Starmap API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// a file of its own: the CSP allows no inline script
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  docExpansion: 'list',
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** GET /docs: the page. */
export const docsPage: RequestHandler = (_req, res) => {
  res.set('Content-Security-Policy', DOCS_CSP).type('html').send(PAGE);
};

/** /docs/assets/<file>: Swagger UI's bundle and style from node_modules, and the page's start-up script. */
export const docsAssets: RequestHandler = (req, res, next) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return next();
  const name = req.path.replace(/^\//, '');
  res.set('Content-Security-Policy', DOCS_CSP);
  if (name === 'init.js') return void res.type('text/javascript').send(INIT);
  if (!ASSETS.has(name)) return next();
  res.sendFile(join(DIST, name), { maxAge: '1d' }, (err) => err && next(err));
};
