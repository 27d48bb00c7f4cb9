// Exponential back-off with jitter, for retries of sync cycles and reconnects.

export class Backoff {
  constructor ({ initialDelay = 500, maxDelay = 30_000 } = {}) {
    this.initialDelay = initialDelay
    this.maxDelay = maxDelay
    this.failures = 0
  }

  /** The wait before the next try; each call doubles it, up to maxDelay. */
  next () {
    const delay = Math.min(this.maxDelay, this.initialDelay * 2 ** this.failures)
    this.failures = Math.min(this.failures + 1, 30)
    // half fixed, half random: clients cut off together do not all come back at once
    return delay / 2 + Math.random() * (delay / 2)
  }

  reset () {
    this.failures = 0
  }
}
