// Dexie schema strings, read the way WebHost reads them: the first entry is the primary key
// ('@id' the SDK generates ULIDs, 'id' the app chooses keys; '++id' cannot sync), the rest are
// indexes. Locally '@id' becomes a plain primary key, since Dexie does not know '@'.

export const OUTBOX_TABLE = '$outbox'
export const META_TABLE = '$meta'

const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/
const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * @param {Record<string, string>} schema collection name -> Dexie schema string
 * @returns {Map<string, {name: string, primaryKey: string, generatedKey: boolean, source: string, localSource: string}>}
 */
export function parseSchema (schema) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new TypeError("schema must be an object of Dexie schema strings, e.g. { posts: '@id, title' }")
  }
  const collections = new Map()
  for (const [name, source] of Object.entries(schema)) {
    collections.set(name, parseCollection(name, source))
  }
  if (collections.size === 0) throw new TypeError('schema names no collection')
  return collections
}

function parseCollection (name, source) {
  if (!COLLECTION_NAME.test(name)) {
    throw new TypeError(
      `invalid collection name '${name}': use 1-48 letters, digits or underscores, starting with a letter`
    )
  }
  if (typeof source !== 'string' || !source.trim()) {
    throw new TypeError(`schema of '${name}' must be a Dexie schema string, e.g. '@id, title'`)
  }
  const entries = source.split(',').map((entry) => entry.trim())
  if (entries.some((entry) => entry === '')) {
    throw new TypeError(`schema of '${name}' has an empty entry (check for doubled commas)`)
  }
  const [first, ...indexes] = entries
  if (first.startsWith('++')) {
    throw new TypeError(
      `collection '${name}' uses '${first}': auto-incremented keys cannot sync, because two ` +
        `offline clients would number different records alike. Use '@${first.slice(2)}' ` +
        `(the SDK generates unique ids) or '${first.slice(2)}' (the app chooses keys)`
    )
  }
  const generatedKey = first.startsWith('@')
  const primaryKey = generatedKey ? first.slice(1) : first
  if (!KEY_NAME.test(primaryKey)) {
    throw new TypeError(
      `primary key '${first}' of '${name}' is not supported: use one top-level field, as '@id' or 'id'`
    )
  }
  for (const index of indexes) {
    if (index.startsWith('@') || index.startsWith('++')) {
      throw new TypeError(`index '${index}' of '${name}': only the primary key can be '@' or '++'`)
    }
  }
  return {
    name,
    primaryKey,
    generatedKey,
    source: entries.join(', '),
    localSource: [primaryKey, ...indexes].join(', ')
  }
}

/** The Dexie stores of the local database: the collections, the outbox and the sync state. */
export function localStores (collections) {
  const stores = {}
  for (const collection of collections.values()) stores[collection.name] = collection.localSource
  // one entry per captured write, in the order of the writes
  stores[OUTBOX_TABLE] = '++seq, [collection+key]'
  stores[META_TABLE] = 'name'
  return stores
}
