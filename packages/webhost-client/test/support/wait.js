// Waiting for a condition, with a timeout: tests never assert on timing.

/**
 * Calls `check` until it returns something truthy (its value is returned) or `timeout` ms pass.
 * Errors thrown by `check` are retried too, and the last one is reported on timeout.
 */
export async function waitFor (check, { timeout = 30_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  let lastError
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const reason = lastError ? `: ${lastError.message}` : ''
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${reason}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
