import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'

/** A client opened and handshaken, with every message it received queued for `next()`. */
export interface OpenClient {
  ws: WebSocket
  upgrade: IncomingMessage
  next(): Promise<string>
}

/** Opens a WebSocket client; rejects when the server refuses. */
export function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<OpenClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options)
    const queued: string[] = []
    const waiting: Array<(message: string) => void> = []
    ws.on('message', (data) => {
      const waiter = waiting.shift()
      if (waiter) waiter(String(data))
      else queued.push(String(data))
    })
    const next = () =>
      queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise<string>((r) => waiting.push(r))
    let upgrade: IncomingMessage | undefined
    ws.once('upgrade', (res) => {
      upgrade = res
    })
    ws.once('open', () => resolve({ ws, upgrade: upgrade!, next }))
    ws.once('error', reject)
  })
}

/** Tries to open a client the server refuses; resolves with the status it got instead. */
export function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => reject(new Error('the upgrade was accepted')))
    ws.once('error', () => {})
    ws.once('unexpected-response', (_req, res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
  })
}

/** Resolves when the client's socket has closed. */
export const closedClient = (ws: WebSocket): Promise<void> =>
  new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve()
    else ws.once('close', () => resolve())
  })
