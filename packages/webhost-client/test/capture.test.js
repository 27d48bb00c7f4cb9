// Every kind of Dexie write to a synced table lands in the outbox in the same transaction;
// rolled-back transactions and the SDK's own remote writes leave no entry.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { openLocalDatabase } from '../src/local-db.js'
import { markRemoteTransaction } from '../src/capture.js'
import { HybridClock } from '../src/hlc.js'
import { parseSchema, OUTBOX_TABLE } from '../src/schema.js'

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/

async function openDatabase (schema = { posts: '@id, title, authorId', tags: 'id' }) {
  const committed = []
  const db = await openLocalDatabase({
    name: 'capture',
    version: 1,
    collections: parseSchema(schema),
    clock: new HybridClock(),
    onCommitted: () => committed.push(true),
    indexedDB: new IDBFactory(),
    IDBKeyRange
  })
  const outbox = async () => (await db.table(OUTBOX_TABLE).orderBy('seq').toArray())
    .map(({ seq, stamp, txid, pushTxid, ...entry }) => entry)
  const clearOutbox = () => db.table(OUTBOX_TABLE).clear()
  return { db, outbox, clearOutbox, committed }
}

test('add, put and delete are captured with the whole record', async () => {
  const { db, outbox } = await openDatabase()
  await db.table('tags').add({ id: 'a', label: 'A' })
  await db.table('tags').put({ id: 'a', label: 'A2', color: 'red' })
  await db.table('tags').put({ id: 7, label: 'seven' })
  await db.table('tags').delete('a')
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'insert', key: 'a', fields: { label: 'A' } },
    { collection: 'tags', op: 'put', key: 'a', fields: { label: 'A2', color: 'red' } },
    { collection: 'tags', op: 'put', key: 7, fields: { label: 'seven' } },
    { collection: 'tags', op: 'delete', key: 'a' }
  ])
})

test('@id records get ULIDs, monotonic in order of writing, set on the app object', async () => {
  const { db, outbox } = await openDatabase()
  const post = { title: 'Hello' }
  const key = await db.table('posts').add(post)
  assert.match(key, ULID)
  assert.equal(post.id, key)
  const keys = await db.table('posts').bulkAdd([{ title: 'a' }, { title: 'b' }, { title: 'c' }], { allKeys: true })
  assert.deepEqual([...keys].sort(), keys)
  assert.ok(keys[0] > key)
  const entries = await outbox()
  assert.deepEqual(entries.map((entry) => entry.key), [key, ...keys])
  assert.deepEqual(entries[0], { collection: 'posts', op: 'insert', key, fields: { title: 'Hello' } })
  assert.equal(await db.table('posts').count(), 4)
})

test('update and bulkUpdate send the changed top-level fields and removed ones', async () => {
  const { db, outbox, clearOutbox } = await openDatabase()
  await db.table('tags').bulkAdd([
    { id: 'a', label: 'A', address: { city: 'Oslo', zip: '1' }, note: 'x' },
    { id: 'b', label: 'B' }
  ])
  await clearOutbox()
  await db.table('tags').update('a', { 'address.city': 'Bergen', note: undefined })
  await db.table('tags').bulkUpdate([
    { key: 'a', changes: { label: 'A2' } },
    { key: 'missing', changes: { label: '?' } },
    { key: 'b', changes: { label: 'B2', extra: 1 } }
  ])
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'update', key: 'a', fields: { address: { city: 'Bergen', zip: '1' } }, removed: ['note'] },
    { collection: 'tags', op: 'update', key: 'a', fields: { label: 'A2' }, removed: [] },
    { collection: 'tags', op: 'update', key: 'b', fields: { label: 'B2', extra: 1 }, removed: [] }
  ])
})

test('upsert of a missing record is a put, of an existing one an update', async () => {
  const { db, outbox } = await openDatabase()
  await db.table('tags').upsert('n', { label: 'new' })
  await db.table('tags').upsert('n', { color: 'blue' })
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'put', key: 'n', fields: { label: 'new' } },
    { collection: 'tags', op: 'update', key: 'n', fields: { color: 'blue' }, removed: [] }
  ])
})

test('Collection.modify with an object or a function, and Collection.delete', async () => {
  const { db, outbox, clearOutbox } = await openDatabase()
  await db.table('tags').bulkAdd([
    { id: 'a', label: 'A', n: 1 },
    { id: 'b', label: 'B', n: 2 },
    { id: 'c', label: 'C', n: 3 }
  ])
  await clearOutbox()
  await db.table('tags').where('id').anyOf('a', 'b').modify({ seen: true })
  await db.table('tags').toCollection().modify((record) => {
    if (record.n > 1) record.n += 10
    delete record.seen
  })
  await db.table('tags').filter((record) => record.n > 12).delete()
  await db.table('tags').where('id').equals('a').delete()
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'update', key: 'a', fields: { seen: true }, removed: [] },
    { collection: 'tags', op: 'update', key: 'b', fields: { seen: true }, removed: [] },
    { collection: 'tags', op: 'update', key: 'a', fields: {}, removed: ['seen'] },
    { collection: 'tags', op: 'update', key: 'b', fields: { n: 12 }, removed: ['seen'] },
    { collection: 'tags', op: 'update', key: 'c', fields: { n: 13 }, removed: [] },
    { collection: 'tags', op: 'delete', key: 'c' },
    { collection: 'tags', op: 'delete', key: 'a' }
  ])
  assert.deepEqual(await db.table('tags').toArray(), [{ id: 'b', label: 'B', n: 12 }])
})

test('bulkPut, bulkDelete and clear', async () => {
  const { db, outbox } = await openDatabase()
  await db.table('tags').bulkPut([{ id: 'a' }, { id: 'b', x: 1 }])
  await db.table('tags').bulkDelete(['a'])
  await db.table('tags').bulkPut([{ id: 'c' }])
  await db.table('tags').clear()
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'put', key: 'a', fields: {} },
    { collection: 'tags', op: 'put', key: 'b', fields: { x: 1 } },
    { collection: 'tags', op: 'delete', key: 'a' },
    { collection: 'tags', op: 'put', key: 'c', fields: {} },
    { collection: 'tags', op: 'delete', key: 'b' },
    { collection: 'tags', op: 'delete', key: 'c' }
  ])
})

test('one explicit transaction gives one txid; each implicit one its own', async () => {
  const { db, committed } = await openDatabase()
  await db.transaction('rw', db.table('posts'), db.table('tags'), async () => {
    await db.table('posts').add({ title: 'in tx' })
    await db.table('tags').put({ id: 't' })
    await db.table('tags').update('t', { label: 'T' })
  })
  await db.table('tags').put({ id: 'u' })
  const entries = await db.table(OUTBOX_TABLE).orderBy('seq').toArray()
  assert.equal(entries.length, 4)
  assert.equal(new Set(entries.slice(0, 3).map((entry) => entry.txid)).size, 1)
  assert.notEqual(entries[3].txid, entries[0].txid)
  const stamps = entries.map((entry) => entry.stamp)
  assert.deepEqual([...stamps].sort(), stamps)
  assert.equal(new Set(stamps).size, 4)
  assert.ok(stamps.every((stamp) => /^[0-9a-f]{16}$/.test(stamp)))
  assert.equal(committed.length, 2)
})

test('a rolled-back transaction leaves neither records nor outbox entries', async () => {
  const { db, outbox } = await openDatabase()
  await assert.rejects(
    db.transaction('rw', db.table('posts'), db.table('tags'), async () => {
      await db.table('posts').add({ title: 'doomed' })
      await db.table('tags').put({ id: 'doomed' })
      throw new Error('changed my mind')
    }),
    /changed my mind/
  )
  await db.table('tags').add({ id: 'dup' })
  await assert.rejects(db.transaction('rw', db.table('tags'), async () => {
    await db.table('tags').put({ id: 'kept-in-rollback' })
    await db.table('tags').add({ id: 'dup' })
  }), /ConstraintError/)
  assert.deepEqual(await outbox(), [{ collection: 'tags', op: 'insert', key: 'dup', fields: {} }])
  assert.equal(await db.table('posts').count(), 0)
  assert.deepEqual(await db.table('tags').toArray(), [{ id: 'dup' }])
})

test('writes in a remote transaction bypass the outbox', async () => {
  const { db, outbox } = await openDatabase()
  await db.transaction('rw', db.table('tags'), async (transaction) => {
    markRemoteTransaction(transaction)
    await db.table('tags').put({ id: 'from-server' })
    await db.table('tags').update('from-server', { label: 'x' })
  })
  assert.deepEqual(await outbox(), [])
  assert.deepEqual(await db.table('tags').get('from-server'), { id: 'from-server', label: 'x' })
})

test('records the server cannot store are refused with a clear error, and nothing is kept', async () => {
  const { db, outbox } = await openDatabase()
  await assert.rejects(db.table('tags').add({ id: 'd', when: new Date() }), /field 'when'.*Date is not JSON/)
  await assert.rejects(db.table('tags').add({ label: 'no key' }), /needs its key 'id'.*declare '@id'/)
  await assert.rejects(db.table('tags').add({ id: '' }), /needs its key 'id'/)
  await assert.rejects(db.table('tags').put({ id: 'n', n: NaN }), /'n'.*not a finite number/)
  assert.deepEqual(await outbox(), [])
  assert.equal(await db.table('tags').count(), 0)
})

test('a bulkAdd whose failures the app catches captures only the records that were added', async () => {
  const { db, outbox } = await openDatabase()
  await db.transaction('rw', db.table('tags'), async () => {
    await db.table('tags').add({ id: 'x', n: 1 })
    await assert.rejects(db.table('tags').bulkAdd([{ id: 'y' }, { id: 'x', n: 2 }, { id: 'z' }]), /1 of 3 operations failed/)
  })
  assert.deepEqual(await outbox(), [
    { collection: 'tags', op: 'insert', key: 'x', fields: { n: 1 } },
    { collection: 'tags', op: 'insert', key: 'y', fields: {} },
    { collection: 'tags', op: 'insert', key: 'z', fields: {} }
  ])
  assert.deepEqual(await db.table('tags').toArray(), [{ id: 'x', n: 1 }, { id: 'y' }, { id: 'z' }])
})
