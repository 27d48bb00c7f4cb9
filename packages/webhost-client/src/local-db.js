// The local Dexie database: the app's collections plus the outbox and the sync state, with the
// capture middleware installed before the database opens.

import Dexie from 'dexie'
import { createCaptureMiddleware } from './capture.js'
import { localStores, META_TABLE } from './schema.js'
import { ulid } from './ulid.js'

const CLIENT_ID_META = 'clientId'

/**
 * @param {object} options
 * @param {string} options.name local database name
 * @param {number} options.version Dexie schema version
 * @param {Map<string, object>} options.collections parsed schema
 * @param {import('./hlc.js').HybridClock} options.clock
 * @param {() => void} options.onCommitted a transaction with captured writes committed
 * @param {object} [options.indexedDB] an IndexedDB factory other than the global one
 * @param {object} [options.IDBKeyRange] the IDBKeyRange of that factory
 */
export async function openLocalDatabase ({ name, version, collections, clock, onCommitted, indexedDB, IDBKeyRange }) {
  const dexieOptions = indexedDB ? { indexedDB, IDBKeyRange } : {}
  const db = new Dexie(name, dexieOptions)
  db.version(version).stores(localStores(collections))
  db.use(createCaptureMiddleware({ collections, clock, newId: ulid, onCommitted }))
  await db.open()
  return db
}

/** This replica's id: made once, kept in the database (the node of its stamps). */
export async function loadClientId (db) {
  const meta = db.table(META_TABLE)
  return db.transaction('rw', meta, async () => {
    const saved = await meta.get(CLIENT_ID_META)
    if (saved) return saved.value
    const clientId = 'c' + ulid().toLowerCase()
    await meta.put({ name: CLIENT_ID_META, value: clientId })
    return clientId
  })
}
