// The local replica's side of sync: the outbox as the push reads it, and the application of
// server records (pulled changes, records returned by a push) in transactions whose writes
// bypass the outbox. Pending local writes are re-applied on top of every server record.

import Dexie from 'dexie'
import { markRemoteTransaction, keyId } from './capture.js'
import { META_TABLE, OUTBOX_TABLE } from './schema.js'
import { applyWrite, jsonEqual } from './values.js'

const CLOCK_META = 'clock'

export class Replica {
  /**
   * @param {import('dexie').Dexie} db
   * @param {Map<string, {name: string, primaryKey: string}>} collections
   * @param {import('./hlc.js').HybridClock} clock
   */
  constructor (db, collections, clock) {
    this.db = db
    this.collections = collections
    this.clock = clock
  }

  get outbox () {
    return this.db.table(OUTBOX_TABLE)
  }

  get meta () {
    return this.db.table(META_TABLE)
  }

  /** Runs `work` in one read-write transaction whose writes are the server's, not the app's. */
  remoteTransaction (collectionNames, work) {
    const tables = [...collectionNames, OUTBOX_TABLE, META_TABLE]
    return this.db.transaction('rw', tables, async (transaction) => {
      markRemoteTransaction(transaction)
      const result = await work()
      await this.meta.put({ name: CLOCK_META, value: this.clock.current() })
      return result
    })
  }

  /** The clock's last known stamp (kept across restarts) and the newest stamp in the outbox. */
  async restoreClock () {
    const saved = await this.meta.get(CLOCK_META)
    if (saved) this.clock.observe(saved.value)
    const newest = await this.outbox.orderBy('seq').last()
    if (newest) this.clock.observe(newest.stamp)
  }

  async getMeta (name) {
    return (await this.meta.get(name))?.value
  }

  async setMeta (name, value) {
    await this.meta.put({ name, value })
  }

  /** The oldest `count` outbox entries, in the order they were written. */
  outboxHead (count) {
    return this.outbox.orderBy('seq').limit(count).toArray()
  }

  outboxSize () {
    return this.outbox.count()
  }

  /** Records which push transaction each entry goes in, so a retry sends the same txids. */
  async assignPushTxids (entries) {
    await this.db.transaction('rw', this.outbox, async () => {
      for (const entry of entries) await this.outbox.update(entry.seq, { pushTxid: entry.pushTxid })
    })
  }

  /**
   * Puts server records into the replica, each with the app's pending writes on top.
   * Must run inside remoteTransaction.
   * @param {string} collectionName
   * @param {Array<{key: string|number, record: object|null}>} items later items win
   */
  async applyServerRecords (collectionName, items) {
    if (items.length === 0) return
    const { primaryKey } = this.collections.get(collectionName)
    const table = this.db.table(collectionName)
    const latest = new Map()
    for (const item of items) latest.set(keyId(item.key), item)
    const keys = [...latest.values()].map((item) => item.key)
    const pending = await this.pendingWrites(collectionName, keys)
    const current = await table.bulkGet(keys)
    const puts = []
    const deletes = []
    keys.forEach((key, index) => {
      const { record } = latest.get(keyId(key))
      let desired = record ? { ...record, [primaryKey]: key } : undefined
      for (const entry of pending.get(keyId(key)) ?? []) desired = applyWrite(desired, entry, primaryKey)
      // an equal record writes nothing, so the app never hears of its own writes coming back
      if (jsonEqual(desired, current[index])) return
      if (desired === undefined) deletes.push(key)
      else puts.push(desired)
    })
    if (puts.length > 0) await table.bulkPut(puts)
    if (deletes.length > 0) await table.bulkDelete(deletes)
  }

  /** Removes every record of a collection but those with pending writes (a pull's reset). */
  async clearCollection (collectionName) {
    const table = this.db.table(collectionName)
    const pendingKeys = new Set(
      (await this.outbox
        .where('[collection+key]')
        .between([collectionName, Dexie.minKey], [collectionName, Dexie.maxKey])
        .toArray()).map((entry) => keyId(entry.key))
    )
    const keys = await table.toCollection().primaryKeys()
    const removed = keys.filter((key) => !pendingKeys.has(keyId(key)))
    if (removed.length > 0) await table.bulkDelete(removed)
  }

  // keyId -> the pending outbox entries of that record, oldest first
  async pendingWrites (collectionName, keys) {
    const entries = await this.outbox
      .where('[collection+key]')
      .anyOf(keys.map((key) => [collectionName, key]))
      .toArray()
    entries.sort((left, right) => left.seq - right.seq)
    const byKey = new Map()
    for (const entry of entries) {
      const id = keyId(entry.key)
      if (!byKey.has(id)) byKey.set(id, [])
      byKey.get(id).push(entry)
    }
    return byKey
  }
}
