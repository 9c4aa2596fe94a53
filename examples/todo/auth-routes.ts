import { type App, type Guard, HttpError, Type } from 'keel'
import type { AuditTrail } from 'keel/audit'
import type { DatabaseModule } from 'keel/data'
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts'
import type { Sessions } from './sessions.ts'

/** Options of {@link serveAuth}. */
export interface AuthRoutesOptions {
  readonly database: DatabaseModule
  /** The started audit trail (read per request: it exists once the app has started). */
  readonly trail: () => AuditTrail
  readonly sessions: Sessions
  /** Guards of the /auth group: the rate limit. */
  readonly guards: readonly Guard[]
  /** Guards of GET /me: a required JWT. */
  readonly meGuards: readonly Guard[]
}

const Email = Type.String({
  format: 'email',
  maxLength: 254,
  description: 'the account email (case-insensitive)',
})
const Password = Type.String({ minLength: 12, maxLength: 128, description: '12 to 128 characters' })
const Tokens = Type.Object({
  accessToken: Type.String({ description: 'a JWT for `Authorization: Bearer …`' }),
  refreshToken: Type.String({ description: 'single use: POST it to /auth/refresh for the next pair' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
})

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** One answer for every failed login, whether the email is unknown or the password wrong. */
const badCredentials = () =>
  new HttpError(
    401,
    'KEEL_UNAUTHORIZED',
    'the email or the password is wrong',
    {},
    { 'www-authenticate': 'Bearer' },
  )

/** One answer for every refresh token that does not rotate: unknown, expired, revoked or reused. */
const badRefreshToken = () =>
  new HttpError(
    401,
    'KEEL_UNAUTHORIZED',
    'the refresh token is invalid, expired or revoked; log in again',
    {},
    { 'www-authenticate': 'Bearer error="invalid_token"' },
  )

/**
 * The account routes: `POST /auth/register`, `/auth/login`, `/auth/refresh` (rate limited per
 * client address) and `GET /me`. Passwords and tokens never reach the log or the audit trail:
 * bodies are not logged, and the trail records who and what, never a credential.
 */
export function serveAuth(app: App, options: AuthRoutesOptions): void {
  const { database, sessions, trail } = options
  const db = () => database.db

  app.group('/auth', { guards: options.guards, tags: ['auth'] }, (auth) => {
    auth.post(
      '/register',
      {
        summary: 'Create an account (role member)',
        problems: [409],
        body: Type.Object({ email: Email, password: Password }),
        response: { 201: Type.Object({ id: Type.String({ format: 'uuid' }), email: Type.String() }) },
      },
      async (ctx) => {
        const email = ctx.body.email.toLowerCase()
        const passwordHash = await hashPassword(ctx.body.password)
        const user = await db().transaction(async (tx) => {
          const [created] = await tx.query<{ id: string; email: string }>(
            'insert into users (email, password_hash) values ($1, $2) on conflict (email) do nothing returning id, email',
            [email, passwordHash],
          )
          if (created) {
            await trail().append(
              { action: 'auth.registered', actor: created.id, subject: `users/${created.id}` },
              { tx },
            )
          }
          return created
        })
        if (!user) throw new HttpError(409, 'KEEL_CONFLICT', 'an account with this email exists')
        ctx.status = 201
        return user
      },
    )

    auth.post(
      '/login',
      {
        summary: 'Exchange email and password for an access token and a refresh token',
        problems: [401],
        body: Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Tokens },
      },
      async (ctx) => {
        const [user] = await db().query<{ id: string; password_hash: string; roles: string[] }>(
          'select id, password_hash, roles from users where email = $1',
          [ctx.body.email.toLowerCase()],
        )
        // An unknown email still costs one scrypt, against a decoy hash, so timing tells nothing.
        const isValid = await verifyPassword(ctx.body.password, user?.password_hash ?? (await decoyHash()))
        if (!user || !isValid) {
          await trail().append({
            action: 'auth.login_failed',
            ...(user ? { actor: user.id, subject: `users/${user.id}` } : {}),
            data: { ip: ctx.ip },
          })
          throw badCredentials()
        }
        return db().transaction(async (tx) => {
          const tokens = await sessions.open(user, tx)
          const event = {
            action: 'auth.login',
            actor: user.id,
            subject: `users/${user.id}`,
            data: { ip: ctx.ip },
          }
          await trail().append(event, { tx })
          return tokens
        })
      },
    )

    auth.post(
      '/refresh',
      {
        summary: 'Rotate a refresh token: the next pair; the token sent stops working',
        problems: [401],
        body: Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 512 }) }),
        response: { 200: Tokens },
      },
      async (ctx) => {
        const outcome = await sessions.refresh(ctx.body.refreshToken)
        if (outcome.kind !== 'rotated') {
          if (outcome.kind === 'reused')
            ctx.log.warn({ user: outcome.userId }, 'refresh token reused; its family is revoked')
          throw badRefreshToken()
        }
        return outcome.tokens
      },
    )
  })

  app.get(
    '/me',
    {
      summary: 'The account of the access token',
      tags: ['auth'],
      guards: options.meGuards,
      response: {
        200: Type.Object({
          id: Type.String({ format: 'uuid' }),
          email: Type.String(),
          roles: Type.Array(Type.String()),
        }),
      },
    },
    async (ctx) => {
      const principal = ctx.principal!
      // Only this service signs the tokens, but a subject is still input: check it before SQL does.
      const [user] = uuid.test(principal.id)
        ? await db().query<{ id: string; email: string }>('select id, email from users where id = $1', [
            principal.id,
          ])
        : []
      if (!user) throw new HttpError(401, 'KEEL_UNAUTHORIZED', 'the account of this token no longer exists')
      return { id: user.id, email: user.email, roles: [...principal.roles] }
    },
  )
}
