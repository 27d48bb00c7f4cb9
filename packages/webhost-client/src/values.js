// Record values as the server stores them: JSON. Helpers to check, compare and diff them.

/** Throws a clear error when a record holds something JSON cannot carry to the server. */
export function assertJsonRecord (record, collection) {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new TypeError(`a record of '${collection}' must be a plain object`)
  }
  checkValue(record, collection, '')
}

function checkValue (value, collection, path) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return
    case 'number':
      if (!Number.isFinite(value)) throw badValue(collection, path, `${value} is not a finite number`)
      return
    case 'object':
      if (value === null) return
      if (Array.isArray(value)) {
        value.forEach((item, index) => checkValue(item, collection, `${path}[${index}]`))
        return
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        const kind = value.constructor?.name ?? 'object'
        throw badValue(collection, path, `a ${kind} is not JSON (store dates as ISO strings or numbers)`)
      }
      for (const [name, item] of Object.entries(value)) {
        checkValue(item, collection, path ? `${path}.${name}` : name)
      }
      return
    default:
      throw badValue(collection, path, `a ${typeof value} is not JSON`)
  }
}

function badValue (collection, path, reason) {
  return new TypeError(`cannot sync field '${path}' of a '${collection}' record: ${reason}`)
}

/** True for a key the server accepts: a non-empty string or a finite number. */
export function isSyncableKey (key) {
  return (typeof key === 'string' && key.length > 0) || (typeof key === 'number' && Number.isFinite(key))
}

/** Deep equality of JSON values; object key order does not matter (the server may reorder). */
export function jsonEqual (left, right) {
  if (left === right) return true
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) {
    return false
  }
  if (Array.isArray(left) !== Array.isArray(right)) return false
  if (Array.isArray(left)) {
    return left.length === right.length && left.every((item, index) => jsonEqual(item, right[index]))
  }
  const leftNames = Object.keys(left).filter((name) => left[name] !== undefined)
  const rightNames = Object.keys(right).filter((name) => right[name] !== undefined)
  if (leftNames.length !== rightNames.length) return false
  return leftNames.every((name) => jsonEqual(left[name], right[name]))
}

/** The record without its primary key: what a put carries in `fields`. */
export function fieldsOf (record, primaryKey) {
  const fields = {}
  for (const [name, value] of Object.entries(record)) {
    if (name !== primaryKey && value !== undefined) fields[name] = value
  }
  return fields
}

/** An update of the named top-level fields: their new values, or `removed` when gone. */
export function updateOf (record, names, primaryKey) {
  const fields = {}
  const removed = []
  for (const name of names) {
    if (name === primaryKey) continue
    if (record[name] === undefined) removed.push(name)
    else fields[name] = record[name]
  }
  return { fields, removed }
}

/** The top-level fields whose values differ between two versions of a record. */
export function changedFields (before, after) {
  const names = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...names].filter((name) => !jsonEqual(before[name], after[name]))
}

/** A record with a write applied, as the replica shows it (undefined: no record). */
export function applyWrite (record, entry, primaryKey) {
  switch (entry.op) {
    case 'insert':
    case 'put':
      return { ...entry.fields, [primaryKey]: entry.key }
    case 'update': {
      // an update never brings a record back, as on the server
      if (record === undefined) return undefined
      const next = { ...record, ...entry.fields }
      for (const name of entry.removed ?? []) delete next[name]
      return next
    }
    case 'delete':
      return undefined
    default:
      throw new Error(`unknown outbox operation '${entry.op}'`)
  }
}
