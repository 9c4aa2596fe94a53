import { Writable } from 'node:stream'
import { main } from '../../src/cli/main.ts'

/** A stream that keeps what is written to it. */
export class Collected extends Writable {
  text = ''
  isTTY = false
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

/** Runs the keel CLI in this process (no start-up of a spawned one): its exit code and output. */
export async function runKeel(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Collected()
  const err = new Collected()
  const code = await main(args, out, err)
  return { code, out: out.text, err: err.text }
}
