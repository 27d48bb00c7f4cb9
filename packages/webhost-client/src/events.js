// A small event emitter: listeners are called in order, and one that throws does not stop others.

export class Emitter {
  constructor () {
    this.listeners = new Map()
  }

  /** Adds a listener; returns a function that removes it. */
  on (event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set())
    this.listeners.get(event).add(listener)
    return () => this.off(event, listener)
  }

  off (event, listener) {
    this.listeners.get(event)?.delete(listener)
  }

  emit (event, value) {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(value)
      } catch (error) {
        // a broken listener must not stop sync; it is reported where nothing else is
        queueMicrotask(() => { throw error })
      }
    }
  }
}
