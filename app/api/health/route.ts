/** GET /api/health — 200 when the database answers, 503 ("degraded") when it does not. */
import { webPool } from '@/lib/server/db'

export async function GET() {
  try {
    await webPool().query('SELECT 1')
    return Response.json({ status: 'ok', database: 'up' }, { headers: { 'cache-control': 'no-store' } })
  } catch {
    return Response.json(
      { status: 'degraded', database: 'down' },
      { status: 503, headers: { 'cache-control': 'no-store' } },
    )
  }
}
