// A Dexie DBCore middleware that captures every write to a synced table into the outbox, in
// the same IndexedDB transaction as the write itself: a write and its outbox entry commit or
// roll back together, whatever Dexie API the app used.

import { OUTBOX_TABLE } from './schema.js'
import {
  assertJsonRecord,
  changedFields,
  fieldsOf,
  isSyncableKey,
  updateOf
} from './values.js'

// set on a transaction whose writes come from the server: they must not enter the outbox
const REMOTE_WRITES = Symbol('webhost.remoteWrites')
const transactionIds = new WeakMap()

/** Marks a Dexie transaction as applying remote changes, so its writes are not captured. */
export function markRemoteTransaction (transaction) {
  transaction.idbtrans[REMOTE_WRITES] = true
}

/**
 * @param {object} options
 * @param {Map<string, {name: string, primaryKey: string, generatedKey: boolean}>} options.collections
 * @param {{next(): string}} options.clock stamps each captured write
 * @param {() => string} options.newId makes record ids for '@id' collections and txids
 * @param {() => void} options.onCommitted called when a transaction with captured writes commits
 */
export function createCaptureMiddleware ({ collections, clock, newId, onCommitted }) {
  return {
    stack: 'dbcore',
    name: 'WebHostOutbox',
    create (down) {
      const outbox = down.table(OUTBOX_TABLE)

      async function writeOutbox (trans, collection, entries) {
        if (entries.length === 0) return
        let txid = transactionIds.get(trans)
        if (txid === undefined) {
          txid = newId()
          transactionIds.set(trans, txid)
          trans.addEventListener('complete', onCommitted)
        }
        const values = entries.map((entry) => ({
          txid,
          collection: collection.name,
          stamp: clock.next(),
          ...entry
        }))
        const result = await outbox.mutate({ type: 'add', trans, values })
        if (result.numFailures > 0) throw Object.values(result.failures)[0]
      }

      function captureTable (table, collection) {
        const primaryKey = collection.primaryKey

        async function captureAddOrPut (req) {
          const values = req.values.map((value) => withKey(value, collection, newId))
          const keys = values.map((value) => value[primaryKey])
          const before = req.type === 'put' ? await table.getMany({ trans: req.trans, keys }) : []
          const result = await table.mutate({ ...req, values })
          const changeSpecs = changeSpecsByKey(req)
          const entries = []
          values.forEach((record, index) => {
            if (result.failures[index]) return
            const entry = describeWrite(req, record, before[index], changeSpecs.get(keyId(keys[index])), primaryKey)
            if (entry) entries.push({ key: keys[index], ...entry })
          })
          await writeOutbox(req.trans, collection, entries)
          return result
        }

        async function captureDelete (req, keys) {
          const result = await table.mutate(req)
          const entries = keys
            .filter((key, index) => isSyncableKey(key) && !result.failures[index])
            .map((key) => ({ key, op: 'delete' }))
          await writeOutbox(req.trans, collection, entries)
          return result
        }

        return {
          ...table,
          async mutate (req) {
            if (req.trans[REMOTE_WRITES]) return table.mutate(req)
            switch (req.type) {
              case 'add':
              case 'put':
                return captureAddOrPut(req)
              case 'delete':
                return captureDelete(req, req.keys)
              case 'deleteRange': {
                // Collection.delete() and Table.clear(): the keys are resolved before they go
                const found = await table.query({
                  trans: req.trans,
                  query: { index: table.schema.primaryKey, range: req.range },
                  values: false
                })
                return captureDelete(req, found.result)
              }
              default:
                return table.mutate(req)
            }
          }
        }
      }

      return {
        ...down,
        transaction (stores, mode, options) {
          const captures = mode === 'readwrite' && stores.some((store) => collections.has(store))
          const withOutbox = captures && !stores.includes(OUTBOX_TABLE) ? [...stores, OUTBOX_TABLE] : stores
          return down.transaction(withOutbox, mode, options)
        },
        table (name) {
          const table = down.table(name)
          const collection = collections.get(name)
          return collection ? captureTable(table, collection) : table
        }
      }
    }
  }
}

// A record with its key: generated for '@id' collections, checked for every collection.
function withKey (value, collection, newId) {
  assertJsonRecord(value, collection.name)
  const primaryKey = collection.primaryKey
  if (value[primaryKey] === undefined && collection.generatedKey) {
    return { ...value, [primaryKey]: newId() }
  }
  if (!isSyncableKey(value[primaryKey])) {
    throw new TypeError(
      `a '${collection.name}' record needs its key '${primaryKey}': a non-empty string or a ` +
        `finite number${collection.generatedKey ? '' : ` (declare '@${primaryKey}' to have the SDK generate ids)`}`
    )
  }
  return value
}

// The outbox entry of one written record (without its key), or null when nothing changed.
function describeWrite (req, record, before, changeSpec, primaryKey) {
  if (req.type === 'add') return { op: 'insert', fields: fieldsOf(record, primaryKey) }
  if (before === undefined) return { op: 'put', fields: fieldsOf(record, primaryKey) }
  if (changeSpec) {
    const names = new Set(Object.keys(changeSpec).map((path) => path.split('.')[0]))
    return { op: 'update', ...updateOf(record, names, primaryKey) }
  }
  // Collection.modify(fn) gives no change spec; its puts are the ones that say which chunk they are
  if ('isAdditionalChunk' in req) {
    const names = changedFields(before, record).filter((name) => name !== primaryKey)
    return names.length > 0 ? { op: 'update', ...updateOf(record, names, primaryKey) } : null
  }
  return { op: 'put', fields: fieldsOf(record, primaryKey) }
}

// Table.update/bulkUpdate/upsert name their changes per key; Collection.modify(object) once for all.
function changeSpecsByKey (req) {
  if (req.changeSpec) return { get: () => req.changeSpec }
  const specs = new Map()
  req.updates?.keys.forEach((key, index) => specs.set(keyId(key), req.updates.changeSpecs[index]))
  return specs
}

/** A Map key for a record key that keeps 1 and '1' apart. */
export function keyId (key) {
  return `${typeof key}:${key}`
}
