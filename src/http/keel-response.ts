import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http'

/**
 * The response class of Keel's servers. The request id header is added when the headers go out,
 * not when the request arrives, and the response knows whether anyone set a header yet: a
 * response nobody did is then sent with one `writeHead` carrying all its headers, Node's fast
 * path, rather than a `setHeader` per header (each validated, lower-cased and stored, then read
 * back when the head is written). That was about 2 µs of a 37 µs `GET /hello`
 * (bench/README.md). Responses of another class (`app.inject()`'s) get the id at once instead.
 */
export class KeelResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** The request id header still to add, and its value; cleared once the head is written. */
  idHeader: string | undefined = undefined
  id: string | undefined = undefined
  /** Whether `setHeader` or `appendHeader` has been called. */
  hasSetHeaders = false

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.hasSetHeaders = true
    return super.setHeader(name, value)
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.hasSetHeaders = true
    return super.appendHeader(name, value)
  }

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const id = this.id
    if (id !== undefined) {
      this.id = undefined
      const name = this.idHeader!
      if (!this.hasHeader(name)) super.setHeader(name, id)
    }
    return typeof reason === 'string'
      ? super.writeHead(statusCode, reason, headers)
      : super.writeHead(statusCode, reason ?? headers)
  }

  /**
   * Sends the head of a response no header was set on: the request id, `content-type` and
   * `content-length`, in one `writeHead`. Only when {@link hasSetHeaders} is false.
   */
  writeFreshHead(statusCode: number, contentType: string, contentLength: number): void {
    const id = this.id
    this.id = undefined
    super.writeHead(
      statusCode,
      id === undefined
        ? ['content-type', contentType, 'content-length', String(contentLength)]
        : [this.idHeader!, id, 'content-type', contentType, 'content-length', String(contentLength)],
    )
  }
}
