/** An image reference split where kustomize's `images:` entry needs it. */
export interface ImageReference {
  /** Registry and repository, e.g. `ghcr.io/acme/todo` or `registry:5000/todo`. */
  readonly name: string
  /** The tag; empty when the reference has none. */
  readonly tag: string
}

/** `registry:5000/todo:1.2.0` → `{ name: 'registry:5000/todo', tag: '1.2.0' }`; a port is not a tag. */
export function splitImage(image: string): ImageReference {
  const colon = image.lastIndexOf(':')
  if (colon <= image.lastIndexOf('/')) return { name: image, tag: '' }
  return { name: image.slice(0, colon), tag: image.slice(colon + 1) }
}
