/** What every page shows instead of its data while the database is unreachable (not an error page). */
export function DatabaseNotice() {
  return (
    <p role="alert" className="notice">
      The database is not reachable right now. Jobs will show again when it is back.
    </p>
  )
}
