/**
 * The pg-boss internals the template relies on (lib/server/pgboss.ts), checked against the
 * installed pg-boss. When a pg-boss upgrade moves one of them, this file fails and names it.
 */
import { randomUUID } from 'node:crypto'
import { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupTestDatabase } from '@/test/kit'
import { withTransaction } from './db'
import { claimAndMarkActive, findJob, insertJob, requestCancel } from './job-store'
import {
  affectedCount,
  backdateHeartbeat,
  bossJobState,
  claimJobs,
  countBossJobs,
  onConnection,
  PGBOSS_SCHEMA,
  reconcileLostJobs,
  stuckJobs,
  touchAttempts,
} from './pgboss'

const QUEUE = 'door'
/** claimJobs' own queue: what it leaves queued must not be fetched by the other tests. */
const CLAIM_QUEUE = 'door_claim'
/** A backlog the planner statistics do not know about (see the claim plan test). */
const BACKLOG_QUEUE = 'door_backlog'
const db = setupTestDatabase({ poolMax: 4 })
let boss: PgBoss

beforeAll(async () => {
  boss = new PgBoss({ connectionString: db.url, schema: PGBOSS_SCHEMA, supervise: false, schedule: false, max: 2 })
  boss.on('error', () => undefined)
  await boss.start()
  await boss.createQueue(QUEUE, { retryLimit: 1, retryDelay: 0, heartbeatSeconds: 10 })
  await boss.createQueue(CLAIM_QUEUE, { retryLimit: 1, retryDelay: 0, heartbeatSeconds: 10 })
  await boss.createQueue(BACKLOG_QUEUE)
})

afterAll(async () => {
  await boss?.stop({ graceful: false, close: true })
})

/** Enqueues a job the way enqueueJob does: its record and its pg-boss job in one transaction. */
async function enqueue(queue: string): Promise<string> {
  const id = randomUUID()
  await withTransaction(db.pool, async (client) => {
    await insertJob(client, { id, queue, ownerId: 'owner', payload: {} })
    await boss.send(queue, {}, { id, ...onConnection(client) })
  })
  return id
}

/** Sends one job and claims it: its attempt as `touch`, `fail` and `complete` take it. */
async function claimOne(): Promise<{ id: string; retryCount: number }> {
  const id = await boss.send(QUEUE, {})
  const [job] = await boss.fetch(QUEUE)
  expect(job?.id).toBe(id)
  return { id: job!.id, retryCount: job!.retryCount }
}

describe('pg-boss internals the template relies on', () => {
  it('keeps its jobs in <schema>.job with the columns and states our queries read', async () => {
    const { rows } = await db.pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'job'`,
      [PGBOSS_SCHEMA],
    )
    expect(rows.map((r) => r.column_name)).toEqual(
      expect.arrayContaining([
        'id',
        'name',
        'state',
        'retry_count',
        'start_after',
        'started_on',
        'heartbeat_on',
        'heartbeat_seconds',
      ]),
    )
    const states = await db.pool.query<{ state: string }>(
      `SELECT unnest(enum_range(NULL::${PGBOSS_SCHEMA}.job_state))::text AS state`,
    )
    expect(states.rows.map((r) => r.state)).toEqual(
      expect.arrayContaining(['created', 'retry', 'active', 'completed', 'failed', 'cancelled']),
    )
    // The queries that read it run (an empty app.jobs changes nothing, finds nothing).
    await expect(reconcileLostJobs(db.pool, [])).resolves.toBe(0)
    await expect(stuckJobs(db.pool)).resolves.toEqual([])
  })

  it('runs its statements on our connection, inside our transaction, through onConnection', async () => {
    const id = randomUUID()
    await expect(
      withTransaction(db.pool, async (client) => {
        await boss.send(QUEUE, {}, { id, ...onConnection(client) })
        expect(await bossJobState(client, QUEUE, id)).toBe('created')
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect(await bossJobState(db.pool, QUEUE, id)).toBeNull()
  })

  it('answers touch with the ids it still counts as active attempts', async () => {
    const attempt = await claimOne()
    expect(await touchAttempts(boss, QUEUE, [attempt])).toEqual(new Set([attempt.id]))
    // A heartbeat an hour old is what stuckJobs looks for; touch refreshes it.
    await backdateHeartbeat(db.pool, QUEUE, attempt.id, 3600)
    const { rows } = await db.pool.query<{ stale: boolean }>(
      `SELECT heartbeat_on < now() - interval '59 minutes' AS stale FROM ${PGBOSS_SCHEMA}.job WHERE id = $1`,
      [attempt.id],
    )
    expect(rows[0]?.stale).toBe(true)
    // A stale attempt (an earlier retryCount) is not ours any more.
    expect(await touchAttempts(boss, QUEUE, [{ id: attempt.id, retryCount: attempt.retryCount + 1 }])).toEqual(
      new Set(),
    )
    await boss.complete(QUEUE, attempt)
    expect(await touchAttempts(boss, QUEUE, [attempt])).toEqual(new Set())
    expect(await bossJobState(db.pool, QUEUE, attempt.id)).toBe('completed')
  })

  it('reports how many jobs a command changed as a numeric affected', async () => {
    const attempt = await claimOne()
    await boss.fail(QUEUE, attempt, { reason: 'test' })
    expect(await bossJobState(db.pool, QUEUE, attempt.id)).toBe('retry')
    expect(affectedCount(await boss.cancel(QUEUE, attempt.id))).toBe(1)
    expect(affectedCount(await boss.retry(QUEUE, attempt.id))).toBe(0)
    expect(affectedCount(await boss.resume(QUEUE, attempt.id))).toBe(1)
    expect(await countBossJobs(boss.getDb(), QUEUE, ['created', 'retry'])).toBeGreaterThanOrEqual(1)
  })

  it('fetches with one statement returning id and retryCount, which claimJobs extends to mark the claim running', async () => {
    const id = await enqueue(CLAIM_QUEUE)
    const [first, ...none] = await claimJobs(boss, db.pool, CLAIM_QUEUE, { count: 5, maxAttempts: 2 })
    expect(none).toEqual([])
    expect(first?.job.id).toBe(id)
    expect(first?.record).toMatchObject({ id, state: 'active', attempt: 1, maxAttempts: 2, ownerId: 'owner' })
    expect(await bossJobState(db.pool, CLAIM_QUEUE, id)).toBe('active')

    // The retry is attempt 2 in both: pg-boss's retryCount + 1.
    await boss.fail(CLAIM_QUEUE, first!.job, { reason: 'test' })
    const [second] = await claimJobs(boss, db.pool, CLAIM_QUEUE, { count: 5, maxAttempts: 2 })
    expect(second?.job.retryCount).toBe(first!.job.retryCount + 1)
    expect(second?.record).toMatchObject({ id, state: 'active', attempt: 2 })
    await boss.complete(CLAIM_QUEUE, second!.job)
  })

  it('claims a job cancelled while queued without a record: it must not run', async () => {
    const id = await enqueue(CLAIM_QUEUE)
    expect((await requestCancel(db.pool, id, 'owner')).kind).toBe('cancelled')
    const claimed = await claimJobs(boss, db.pool, CLAIM_QUEUE, { count: 5, maxAttempts: 2 })
    expect(claimed.map((c) => [c.job.id, c.record])).toEqual([[id, null]])
    expect((await findJob(db.pool, id))?.state).toBe('cancelled')
    await boss.cancel(CLAIM_QUEUE, claimed[0]!.job)
  })

  it('claims nothing when the record cannot be marked: the claim and the mark are one statement', async () => {
    const id = await enqueue(CLAIM_QUEUE)
    // Every start of a job is refused, as a failing trigger or constraint would refuse it.
    await db.pool.query(`CREATE FUNCTION app.refuse_start() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused'; END $$`)
    await db.pool.query(
      'CREATE TRIGGER refuse_start BEFORE UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app.refuse_start()',
    )
    try {
      await expect(claimJobs(boss, db.pool, CLAIM_QUEUE, { count: 5, maxAttempts: 2 })).rejects.toThrow('refused')
    } finally {
      await db.pool.query('DROP TRIGGER refuse_start ON app.jobs; DROP FUNCTION app.refuse_start()')
    }
    expect(await bossJobState(db.pool, CLAIM_QUEUE, id)).toBe('created')
    expect((await findJob(db.pool, id))?.state).toBe('queued')
    const [claimed] = await claimJobs(boss, db.pool, CLAIM_QUEUE, { count: 5, maxAttempts: 2 })
    expect(claimed?.record?.state).toBe('active')
    await boss.complete(CLAIM_QUEUE, claimed!.job)
  })

  it('marks a claim by id, reading only the claimed records, even when the statistics predate the backlog', async () => {
    // Statistics taken before a burst, when every job had settled (autovacuum analyzes a minute
    // later at best), say almost nothing waits: a plan built on them must still not read every
    // waiting record for each claim.
    await db.pool.query(
      `INSERT INTO app.jobs (id, queue, owner_id, payload, state, settled_at)
       SELECT gen_random_uuid(), $1, 'owner', '{}', 'completed', now() FROM generate_series(1, 5000)`,
      [BACKLOG_QUEUE],
    )
    await db.pool.query('ANALYZE app.jobs')
    const ids = Array.from({ length: 3_000 }, () => randomUUID())
    await withTransaction(db.pool, async (client) => {
      await client.query(
        `INSERT INTO app.jobs (id, queue, owner_id, payload) SELECT id, $2, 'owner', '{}' FROM unnest($1::uuid[]) AS t(id)`,
        [ids, BACKLOG_QUEUE],
      )
      await boss.insert(
        BACKLOG_QUEUE,
        ids.map((id) => ({ id, data: {} })),
        onConnection(client),
      )
    })
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      let plan: unknown
      await boss.fetch(BACKLOG_QUEUE, {
        batchSize: 10,
        db: {
          executeSql: async (text, values) => {
            const claim = claimAndMarkActive({ text, values: values ?? [] }, 1)
            const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${claim.text}`, claim.values)
            plan = rows[0]!['QUERY PLAN']
            return { rows: [] }
          },
        },
      })
      // Every scan of app.jobs in the plan, with the rows it read (returned and filtered out).
      const scans: { node: string; read: number }[] = []
      const visit = (node: Record<string, unknown>) => {
        if (node['Relation Name'] === 'jobs')
          scans.push({
            node: `${String(node['Node Type'])} ${String(node['Index Name'] ?? '')}`,
            read: Number(node['Actual Rows']) + Number(node['Rows Removed by Filter'] ?? 0),
          })
        for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) visit(child)
      }
      visit((plan as { Plan: Record<string, unknown> }[])[0]!.Plan)
      expect(scans.length).toBeGreaterThan(0)
      for (const scan of scans) expect(scan.read, scan.node).toBeLessThanOrEqual(20)
    } finally {
      await client.query('ROLLBACK')
      client.release()
    }
    await db.pool.query(`DELETE FROM ${PGBOSS_SCHEMA}.job WHERE name = $1`, [BACKLOG_QUEUE])
    await db.pool.query('DELETE FROM app.jobs WHERE queue = $1', [BACKLOG_QUEUE])
  })
})
