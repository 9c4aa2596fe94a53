import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { KeelError } from '../errors/index.ts'

/** Where the server's certificate and key live (`server.tls` in keel.yaml). */
export interface TlsFiles {
  /** PEM certificate chain: the server's certificate first, then intermediates. */
  certFile: string
  /** PEM private key, encrypted if `passphrase` is set. */
  keyFile: string
  /** PEM CA certificates to trust for client certificates, if any. */
  caFile?: string
  passphrase?: string
}

/**
 * Reads and checks the TLS files, failing with `KEEL_TLS_INVALID` naming the config key, the file
 * and what is wrong with it: unreadable, not a PEM certificate, not a key (or a wrong
 * passphrase), or a key that does not belong to the certificate. Called at start-up, so
 * `app.describe()` works where the files are not mounted.
 *
 * @example
 * ```ts
 * const context = loadTlsFiles({ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' })
 * httpsServer.setSecureContext(context)
 * ```
 */
export function loadTlsFiles(files: TlsFiles, key = 'server.tls'): SecureContextOptions {
  const cert = read(files.certFile, `${key}.certFile`)
  const privateKey = read(files.keyFile, `${key}.keyFile`)
  const ca = files.caFile === undefined ? undefined : read(files.caFile, `${key}.caFile`)
  check(() => new X509Certificate(cert), `${key}.certFile`, files.certFile, 'is not a PEM certificate')
  if (ca !== undefined)
    check(() => new X509Certificate(ca), `${key}.caFile`, files.caFile!, 'is not a PEM certificate')
  check(
    () => createPrivateKey({ key: privateKey, passphrase: files.passphrase }),
    `${key}.keyFile`,
    files.keyFile,
    files.passphrase === undefined
      ? 'is not a PEM private key (or it is encrypted and no passphrase is set)'
      : 'is not a PEM private key, or the passphrase does not decrypt it',
  )
  const options: SecureContextOptions = { cert, key: privateKey, ca, passphrase: files.passphrase }
  check(
    () => createSecureContext(options),
    `${key}.keyFile`,
    files.keyFile,
    `does not match the certificate in ${files.certFile}`,
  )
  return options
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new KeelError('KEEL_TLS_INVALID', `${what}: cannot read ${path} (${code})`, { cause: error })
  }
}

function check(parse: () => unknown, what: string, path: string, problem: string): void {
  try {
    parse()
  } catch (error) {
    throw new KeelError('KEEL_TLS_INVALID', `${what}: ${path} ${problem}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}
