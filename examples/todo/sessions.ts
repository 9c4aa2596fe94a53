import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { AuditTrail } from 'keel/audit'
import type { Db, Queryable } from 'keel/data'

/** The `iss` of the access tokens this service signs, and what `jwtAuth` checks. */
export const tokenIssuer = 'todo'
/** The `aud` of the access tokens: the API that accepts them. */
export const tokenAudience = 'todo-api'

/** How tokens are signed and how long they live (the `todo` config section). */
export interface SessionSettings {
  /** HS256 key, at least 32 bytes. */
  readonly jwtSecret: string
  readonly accessTokenTtlSeconds: number
  readonly refreshTokenTtlSeconds: number
}

/** What a client gets from login and refresh. */
export interface TokenPair {
  readonly accessToken: string
  readonly refreshToken: string
  readonly tokenType: 'Bearer'
  /** Seconds until the access token expires. */
  readonly expiresIn: number
}

/** The account a token pair is issued to. */
export interface Account {
  readonly id: string
  readonly roles: readonly string[]
}

/** What {@link Sessions.refresh} decided. */
export type RefreshOutcome =
  | { readonly kind: 'rotated'; readonly tokens: TokenPair }
  /** Unknown or expired: answer 401. */
  | { readonly kind: 'invalid' }
  /** Already rotated or revoked: the family was revoked (and audited); answer 401. */
  | { readonly kind: 'reused'; readonly userId: string }

/** A refresh token is 256 random bits; only its SHA-256 is stored. */
const refreshTokenHash = (token: string) => createHash('sha256').update(token).digest('hex')

/**
 * Access and refresh tokens. Access tokens are short-lived HS256 JWTs (`iss` todo, `aud`
 * todo-api, `sub` the user id, `roles`), checked by Keel's `jwtAuth` without a database read.
 * Refresh tokens are opaque random strings stored hashed, one row per token, and rotated on every
 * use, as the OAuth 2.0 Security BCP (RFC 9700 §4.14.2) recommends for clients that cannot keep a
 * secret: each refresh revokes the token it used and issues the next one of the same family. A
 * token presented after it was rotated means two parties hold the family (one of them stole it),
 * so the whole family is revoked and both must log in again.
 */
export class Sessions {
  readonly #db: () => Db
  readonly #trail: () => AuditTrail
  readonly #settings: SessionSettings
  readonly #key: Uint8Array

  constructor(options: { db: () => Db; trail: () => AuditTrail; settings: SessionSettings }) {
    this.#db = options.db
    this.#trail = options.trail
    this.#settings = options.settings
    this.#key = new TextEncoder().encode(options.settings.jwtSecret)
  }

  /** A new token pair of a new family (a login), written with `tx` so it commits with its audit entry. */
  async open(account: Account, tx: Queryable): Promise<TokenPair> {
    return (await this.#issue(account, randomUUID(), tx)).tokens
  }

  /**
   * Rotates a refresh token: one transaction that locks the token's row, so two refreshes with one
   * token cannot both succeed (the second sees it revoked and counts as reuse).
   */
  async refresh(refreshToken: string): Promise<RefreshOutcome> {
    return this.#db().transaction(async (tx): Promise<RefreshOutcome> => {
      const [token] = await tx.query<{
        id: string
        user_id: string
        family_id: string
        is_revoked: boolean
        is_expired: boolean
      }>(
        `select id, user_id, family_id, revoked_at is not null as is_revoked, expires_at <= now() as is_expired
         from refresh_tokens where token_hash = $1 for update`,
        [refreshTokenHash(refreshToken)],
      )
      if (!token) return { kind: 'invalid' }
      if (token.is_revoked) {
        const revoked = await tx.query(
          'update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null returning id',
          [token.family_id],
        )
        await this.#trail().append(
          {
            action: 'auth.refresh_reused',
            actor: token.user_id,
            subject: `users/${token.user_id}`,
            data: { family: token.family_id, revoked: revoked.length },
          },
          { tx },
        )
        return { kind: 'reused', userId: token.user_id }
      }
      if (token.is_expired) return { kind: 'invalid' }
      const [user] = await tx.query<{ id: string; roles: string[] }>(
        'select id, roles from users where id = $1',
        [token.user_id],
      )
      if (!user) return { kind: 'invalid' }
      const { tokens, id } = await this.#issue(user, token.family_id, tx)
      await tx.query('update refresh_tokens set revoked_at = now(), replaced_by = $2 where id = $1', [
        token.id,
        id,
      ])
      return { kind: 'rotated', tokens }
    })
  }

  /** Signs an access token and stores a new refresh token of `family`; `id` is the refresh token's row. */
  async #issue(account: Account, family: string, tx: Queryable): Promise<{ tokens: TokenPair; id: string }> {
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.#settings
    const refreshToken = randomBytes(32).toString('base64url')
    const [row] = await tx.query<{ id: string }>(
      `insert into refresh_tokens (user_id, family_id, token_hash, expires_at)
       values ($1, $2, $3, now() + make_interval(secs => $4)) returning id`,
      [account.id, family, refreshTokenHash(refreshToken), refreshTokenTtlSeconds],
    )
    const now = Math.floor(Date.now() / 1000)
    const accessToken = await new SignJWT({ roles: [...account.roles] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(tokenIssuer)
      .setAudience(tokenAudience)
      .setSubject(account.id)
      .setIssuedAt(now)
      .setExpirationTime(now + accessTokenTtlSeconds)
      .setJti(randomUUID())
      .sign(this.#key)
    return {
      id: row!.id,
      tokens: { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: accessTokenTtlSeconds },
    }
  }
}
