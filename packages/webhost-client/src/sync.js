// The sync loop: define the collections once, then push the outbox and pull every scope,
// again whenever something asks (a local write, a revision notice, a reconnect), with back-off
// after failures. It also works out the status the app sees.

import { Backoff } from './backoff.js'
import { pullAll } from './pull.js'
import { pushOutbox } from './push.js'

export class SyncEngine {
  /**
   * @param {object} options
   * @param {import('./replica.js').Replica} options.replica
   * @param {import('./http.js').HttpApi} options.http
   * @param {import('./hlc.js').HybridClock} options.clock
   * @param {string} options.clientId
   * @param {Map<string, {source: string}>} options.collections
   * @param {Map<string, string|undefined>} options.scopes
   * @param {boolean} options.defineCollections PUT the schemas before the first sync
   * @param {number} options.pullLimit
   * @param {{initialDelay?: number, maxDelay?: number}} [options.retry]
   * @param {(event: string, value: unknown) => void} options.emit
   * @param {boolean} options.live whether a live socket tells the status
   */
  constructor (options) {
    Object.assign(this, options)
    this.backoff = new Backoff(options.retry)
    this.limits = null
    this.collectionsDefined = !options.defineCollections
    this.wanted = false
    this.running = null
    this.stopped = false
    this.retryTimer = null
    this.cyclesStarted = 0
    this.cyclesCompleted = 0
    this.lastFailure = null
    this.liveState = options.live ? 'connecting' : 'open'
    this.waiters = []
    this.busy = false
    this.status = null
    this.updateStatus()
  }

  /** Asks for a sync cycle soon; cycles asked for while one runs are folded into one more. */
  request () {
    if (this.stopped) return
    this.wanted = true
    if (this.running) return
    this.running = this.run().finally(() => {
      this.running = null
      // asked for while the last loop was ending
      if (this.wanted) this.request()
    })
  }

  /** A local write committed: push it now, unless a retry is already waiting out its back-off. */
  noteLocalWrite () {
    if (this.retryTimer !== null) this.wanted = true
    else this.request()
  }

  /** A full cycle that starts after this call: resolves when it completes, rejects if it fails. */
  syncNow () {
    if (this.stopped) return Promise.reject(new Error('the client is closed'))
    const done = new Promise((resolve, reject) => {
      this.waiters.push({ after: this.cyclesStarted, resolve, reject })
    })
    this.request()
    return done
  }

  /** The live socket's state and, on `hello`, the server's limits and clock. */
  setLive (state, hello) {
    // reconnect attempts after a lost connection stay "offline" until one succeeds
    if (!(state === 'connecting' && this.liveState === 'closed')) this.liveState = state
    if (hello) this.takeServerInfo(hello)
    if (state === 'open') {
      this.backoff.reset()
      this.request()
    }
    this.updateStatus()
  }

  onRevision (notice) {
    if ((notice.collections ?? []).some((name) => this.collections.has(name))) this.request()
  }

  async stop () {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = null
    await this.running
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the client is closed'))
  }

  async run () {
    clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.busy = true
    while (this.wanted && !this.stopped) {
      this.wanted = false
      const cycle = ++this.cyclesStarted
      this.updateStatus()
      try {
        await this.cycle()
        this.lastFailure = null
        this.backoff.reset()
        this.cyclesCompleted += 1
        this.settleWaiters(cycle, (waiter) => waiter.resolve())
      } catch (error) {
        if (this.stopped) break
        this.lastFailure = error
        this.settleWaiters(cycle, (waiter) => waiter.reject(error))
        this.emit('error', error)
        // the retry asks again after the back-off, not at once
        this.wanted = false
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null
          this.request()
        }, this.backoff.next())
        break
      }
    }
    this.busy = false
    this.updateStatus()
  }

  async cycle () {
    if (!this.collectionsDefined) {
      for (const collection of this.collections.values()) {
        await this.http.request('PUT', `/v1/collections/${collection.name}`, { schema: collection.source })
      }
      this.collectionsDefined = true
    }
    if (!this.limits) this.takeServerInfo(await this.http.request('GET', '/v1/sync'))
    await pushOutbox({
      replica: this.replica,
      http: this.http,
      clock: this.clock,
      limits: this.limits,
      clientId: this.clientId,
      onRejected: (rejection) => this.emit('rejected', rejection)
    })
    await pullAll({
      replica: this.replica,
      http: this.http,
      clock: this.clock,
      scopes: this.scopes,
      limit: Math.min(this.pullLimit, this.limits.maxPullChanges)
    })
  }

  takeServerInfo (info) {
    this.clock.observe(info.clock)
    const limits = info.limits ?? {}
    this.limits = {
      maxMutations: limits.max_mutations ?? 1000,
      maxBodyBytes: limits.max_body_bytes ?? 1_048_576,
      maxPullChanges: limits.max_pull_changes ?? 1000
    }
  }

  settleWaiters (cycle, settle) {
    const due = this.waiters.filter((waiter) => waiter.after < cycle)
    this.waiters = this.waiters.filter((waiter) => waiter.after >= cycle)
    due.forEach(settle)
  }

  updateStatus () {
    const status = this.currentStatus()
    if (status === this.status) return
    this.status = status
    this.emit('status', status)
  }

  currentStatus () {
    // retries while the server is unreachable do not flicker to "syncing"
    if (this.lastFailure?.code === 'network' && this.liveState !== 'open') return 'offline'
    if (this.busy) return 'syncing'
    if (this.lastFailure) return this.lastFailure.code === 'network' ? 'offline' : 'error'
    if (this.liveState === 'closed') return 'offline'
    if (this.liveState === 'connecting' || this.cyclesCompleted === 0) return 'connecting'
    return 'synced'
  }
}
