-- Up Migration
-- Failed operator sign-ins, per client and for everyone ('global'), so the limit holds across every
-- web process. One row per key; a sign-in locks its two rows (client first, then 'global', always
-- in that order) for the few statements it takes. lib/server/login-throttle.ts explains the rule.
CREATE TABLE app.login_throttle (
  key             text PRIMARY KEY,                  -- 'client:<address>' or 'global'
  failures        integer NOT NULL DEFAULT 0,        -- attempts counted in the current window
  last_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(), -- a window ends 15 minutes after it
  blocked_until   timestamptz NOT NULL DEFAULT '-infinity'         -- attempts before this are refused unread
);
-- Times are clock_timestamp(), not now(): sign-ins queue on these rows' locks, and a transaction
-- that started before the holder's must not see the holder's "now" as a time in its future.

-- Down Migration
DROP TABLE app.login_throttle;
