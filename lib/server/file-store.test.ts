import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Queryable } from './db'
import { PART_BYTES, createFileWriter, deleteFile, readFile } from './file-store'

/**
 * An in-memory stand-in for `app.job_file_parts` that understands the statements
 * file-store.ts runs. `holdInserts` keeps every INSERT pending until `release()` is called,
 * the way a slow database would.
 */
function fakeParts() {
  const parts = new Map<string, Map<number, Buffer>>()
  let held: (() => void)[] | null = null
  const result = (rows: unknown[] = []) => ({ rows, rowCount: rows.length }) as unknown as pg.QueryResult
  const db: Queryable = {
    async query(text: string, values: unknown[] = []) {
      const [jobId] = values as [string]
      if (text.startsWith('INSERT')) {
        if (held) await new Promise<void>((resolve) => held!.push(resolve))
        const [, part, data] = values as [string, number, Buffer]
        if (!parts.has(jobId)) parts.set(jobId, new Map())
        parts.get(jobId)!.set(part, Buffer.from(data))
        return result()
      }
      if (text.startsWith('DELETE')) {
        parts.delete(jobId)
        return result()
      }
      if (text.startsWith('SELECT')) {
        const data = parts.get(jobId)?.get(values[1] as number)
        return result(data ? [{ data }] : [])
      }
      throw new Error(`unexpected SQL: ${text}`)
    },
  } as Queryable
  return {
    db,
    parts: (jobId: string) => [...(parts.get(jobId)?.entries() ?? [])].sort(([a], [b]) => a - b),
    holdInserts: () => {
      held = []
    },
    pendingInserts: () => held?.length ?? 0,
    release: () => {
      const h = held ?? []
      held = null
      h.forEach((resolve) => resolve())
    },
  }
}

async function readAll(db: Queryable, jobId: string): Promise<Buffer> {
  return Buffer.from(await new Response(readFile(db, jobId)).arrayBuffer())
}

/** `total` bytes in chunks of `chunk` bytes. */
function chunks(total: number, chunk = 64 * 1024): Buffer[] {
  const data = randomBytes(total)
  const out: Buffer[] = []
  for (let i = 0; i < total; i += chunk) out.push(data.subarray(i, i + chunk))
  return out
}

describe('file store', () => {
  it('stores a file in parts numbered from 0 and reads back the same bytes', async () => {
    const store = fakeParts()
    const data = chunks(3 * PART_BYTES + 12_345)
    const writer = createFileWriter(store.db, 'job-1', 1)
    await pipeline(Readable.from(data), writer)

    const expected = Buffer.concat(data)
    expect(writer.bytes).toBe(expected.length)
    expect(store.parts('job-1').map(([part]) => part)).toEqual([0, 1, 2, 3])
    expect((await readAll(store.db, 'job-1')).equals(expected)).toBe(true)
  })

  it('stores parts of exactly PART_BYTES, the last one less, however the bytes were cut into chunks', async () => {
    const store = fakeParts()
    const data = chunks(5 * PART_BYTES + 7, 2 * PART_BYTES + 3)
    const writer = createFileWriter(store.db, 'job-1', 1)
    await pipeline(Readable.from(data), writer)

    expect(store.parts('job-1').map(([, bytes]) => bytes.length)).toEqual([...Array(5).fill(PART_BYTES), 7])
    expect((await readAll(store.db, 'job-1')).equals(Buffer.concat(data))).toBe(true)
  })

  it('stores an empty file as no parts, and reads it back as empty', async () => {
    const store = fakeParts()
    const writer = createFileWriter(store.db, 'job-1', 1)
    await pipeline(Readable.from([]), writer)
    expect(writer.bytes).toBe(0)
    expect(store.parts('job-1')).toEqual([])
    expect((await readAll(store.db, 'job-1')).length).toBe(0)
  })

  it('replaces the earlier file of the same job, as a retried attempt starts over', async () => {
    const store = fakeParts()
    await pipeline(Readable.from(chunks(2 * PART_BYTES + 1)), createFileWriter(store.db, 'job-1', 1))
    const second = Buffer.from('id,name\r\n')
    await pipeline(Readable.from([second]), createFileWriter(store.db, 'job-1', 2))
    expect((await readAll(store.db, 'job-1')).equals(second)).toBe(true)
    expect(store.parts('job-1').map(([part]) => part)).toEqual([0])
  })

  it('leaves no part behind when an aborted write is cleaned up after idle()', async () => {
    const store = fakeParts()
    const writer = createFileWriter(store.db, 'job-1', 1)
    const controller = new AbortController()
    store.holdInserts()
    const source = Readable.from(
      (async function* () {
        // More than the writer takes while a part is being stored (one stored, one filling), so the
        // abort finds this source held back at a yield, as a real export's COPY stream would be.
        yield* chunks(3 * PART_BYTES)
        // Never ends by itself: only the abort stops this export.
        await new Promise(() => undefined)
      })(),
    )
    const running = pipeline(source, writer, { signal: controller.signal })
    await expect.poll(() => store.pendingInserts()).toBe(1)

    // Cancel while the first part's INSERT is still running: the pipeline gives up at once.
    controller.abort()
    await expect(running).rejects.toThrow(/abort/i)
    let idle = false
    const waiting = writer.idle().then(() => {
      idle = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(idle).toBe(false) // the part is still being stored

    store.release()
    await waiting
    await deleteFile(store.db, 'job-1')
    expect(store.parts('job-1')).toEqual([])
  })
})
