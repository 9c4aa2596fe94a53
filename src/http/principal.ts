/** Who sent a request, as an auth guard verified it; handlers and later capabilities read it. */
export interface Principal {
  /** Subject: the user or client id (`sub` of a JWT, the key's owner for an API key). */
  id: string
  /** How it was verified. */
  kind: 'jwt' | 'api-key'
  roles: readonly string[]
  scopes: readonly string[]
  /** The verified claims (JWT) or the key's metadata; never the credential itself. */
  claims: Readonly<Record<string, unknown>>
}
