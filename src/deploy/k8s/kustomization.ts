/**
 * The subset of kustomize's `Kustomization` (kustomize.config.k8s.io/v1beta1) the generator
 * writes; kubernetes-models has no model of it, `kubectl kustomize` is its check.
 */
export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1'
  kind: 'Kustomization'
  namespace?: string
  resources: string[]
  configMapGenerator?: Array<{ name: string; files: string[]; options?: { labels: Record<string, string> } }>
  images?: Array<{ name: string; newName?: string; newTag?: string }>
  patches?: Array<{ path: string; target?: { kind: string; name: string } }>
}

/** A kustomization with its fields in the order kustomize's documentation shows them. */
export const kustomization = (fields: Omit<Kustomization, 'apiVersion' | 'kind'>): Kustomization => ({
  apiVersion: 'kustomize.config.k8s.io/v1beta1',
  kind: 'Kustomization',
  ...(fields.namespace ? { namespace: fields.namespace } : {}),
  resources: fields.resources,
  ...(fields.configMapGenerator ? { configMapGenerator: fields.configMapGenerator } : {}),
  ...(fields.images ? { images: fields.images } : {}),
  ...(fields.patches ? { patches: fields.patches } : {}),
})
