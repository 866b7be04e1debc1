/** A minimal leveled logger for the worker tier; swap in pino or similar by keeping this shape. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Logs to stdout/stderr with a `[scope]` prefix. */
export function createLogger(scope: string): Logger {
  return {
    info: (m) => console.log(`[${scope}] ${m}`),
    warn: (m) => console.warn(`[${scope}] ${m}`),
    error: (m) => console.error(`[${scope}] ${m}`),
  }
}
