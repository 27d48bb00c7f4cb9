// Hybrid logical clock stamps, as the sync protocol defines them: 16 lower-case hex digits,
// 12 for the milliseconds since the epoch and 4 for a counter within the millisecond.
// Stamps compare as text.

const MAX_COUNTER = 0xffff
export const STAMP_PATTERN = /^[0-9a-f]{16}$/

export class HybridClock {
  constructor (now = Date.now) {
    this.now = now
    this.lastTime = 0
    this.lastCounter = 0
  }

  /** A stamp later than every stamp this clock made or observed. */
  next () {
    const wall = this.now()
    if (wall > this.lastTime) {
      this.lastTime = wall
      this.lastCounter = 0
    } else if (this.lastCounter < MAX_COUNTER) {
      this.lastCounter += 1
    } else {
      this.lastTime += 1
      this.lastCounter = 0
    }
    return formatStamp(this.lastTime, this.lastCounter)
  }

  /** Moves the clock past a stamp seen elsewhere (the server's clock, a stored stamp). */
  observe (stamp) {
    if (typeof stamp !== 'string' || !STAMP_PATTERN.test(stamp.slice(0, 16))) return
    const time = parseInt(stamp.slice(0, 12), 16)
    const counter = parseInt(stamp.slice(12, 16), 16)
    if (time > this.lastTime || (time === this.lastTime && counter > this.lastCounter)) {
      this.lastTime = time
      this.lastCounter = counter
    }
  }

  /** The latest stamp made or observed (to keep across restarts). */
  current () {
    return formatStamp(this.lastTime, this.lastCounter)
  }
}

export function formatStamp (time, counter) {
  return time.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0')
}
