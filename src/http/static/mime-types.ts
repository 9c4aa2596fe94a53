/**
 * Content types of the files a web app ships, by lower-case extension. A small built-in map
 * rather than the `mime-types` database (2,000+ entries, a dependency): a static directory holds
 * HTML, styles, scripts, images, fonts, media and a few documents, and this covers them. Add or
 * override entries with the `mimeTypes` option of `serveStatic()`; anything unknown is
 * `application/octet-stream`, which browsers download rather than sniff (with `nosniff`).
 */
export const builtInMimeTypes: Readonly<Record<string, string>> = {
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  cjs: 'text/javascript',
  map: 'application/json',
  json: 'application/json',
  webmanifest: 'application/manifest+json',
  xml: 'application/xml',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  webm: 'video/webm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  br: 'application/x-brotli',
  wasm: 'application/wasm',
}

const textual = /^(text\/|application\/(json|manifest\+json|xml)$|image\/svg\+xml$)/

/** The `Content-Type` for a file name: textual types say `charset=utf-8`. */
export function contentTypeFor(fileName: string, types: Readonly<Record<string, string>>): string {
  const dot = fileName.lastIndexOf('.')
  const type = dot === -1 ? undefined : types[fileName.slice(dot + 1).toLowerCase()]
  if (type === undefined) return 'application/octet-stream'
  return textual.test(type) ? `${type}; charset=utf-8` : type
}
