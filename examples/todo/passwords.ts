import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Password hashing with scrypt from node:crypto (RFC 7914), stored as one self-describing string:
 *
 *     scrypt$<N>$<r>$<p>$<salt, base64url>$<key, base64url>
 *
 * The parameters are N=2^15, r=8, p=3, one of the equivalent scrypt settings OWASP's Password
 * Storage Cheat Sheet recommends (32 MiB and a few hundred milliseconds of CPU per hash); the
 * salt is 16 random bytes per password, the key 64 bytes.
 * Because every hash names its own parameters, they can be raised later: old hashes still verify,
 * and a login could rehash with the new ones.
 */
export const scryptParameters = { N: 2 ** 15, r: 8, p: 3, keyLength: 64, saltLength: 16 } as const

/** Stored hashes whose parameters exceed these are refused rather than computed (a DoS lever). */
const limits = { N: 2 ** 20, r: 32, p: 16 } as const

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number) {
  // scrypt needs about 128·N·r bytes; Node's default cap (32 MiB) is exactly N=2^15, r=8.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r }
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

/** Hashes a password with a fresh random salt. Runs on libuv's thread pool, not the event loop. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = scryptParameters
  const salt = randomBytes(saltLength)
  const key = await derive(password, salt, N, r, p, keyLength)
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/**
 * Whether `password` matches `stored`, compared in constant time. A malformed stored hash is a
 * mismatch, never an exception that would answer differently from a wrong password.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const salt = Buffer.from(parts[4]!, 'base64url')
  const expected = Buffer.from(parts[5]!, 'base64url')
  const isSane =
    [N, r, p].every(Number.isSafeInteger) &&
    N > 1 &&
    (N & (N - 1)) === 0 &&
    N <= limits.N &&
    r >= 1 &&
    r <= limits.r &&
    p >= 1 &&
    p <= limits.p &&
    salt.length >= 16 &&
    expected.length >= 32
  if (!isSane) return false
  const actual = await derive(password, salt, N, r, p, expected.length)
  return timingSafeEqual(actual, expected)
}

/**
 * A hash of a random password, made once: login verifies against it when the email is unknown,
 * so that an unknown email costs the same scrypt work as a wrong password and response times do
 * not tell which accounts exist.
 */
let decoy: Promise<string> | undefined
export const decoyHash = (): Promise<string> => {
  decoy ??= hashPassword(randomBytes(32).toString('base64url'))
  return decoy
}
