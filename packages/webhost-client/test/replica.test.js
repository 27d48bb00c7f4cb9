// Server records applied to the replica: without entering the outbox, without writing what is
// already there, and with the app's pending writes re-applied on top.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { openLocalDatabase } from '../src/local-db.js'
import { Replica } from '../src/replica.js'
import { HybridClock } from '../src/hlc.js'
import { parseSchema, OUTBOX_TABLE } from '../src/schema.js'

async function openReplica () {
  const collections = parseSchema({ tasks: 'id, projectId' })
  const clock = new HybridClock()
  const db = await openLocalDatabase({
    name: 'replica', version: 1, collections, clock, onCommitted: () => {}, indexedDB: new IDBFactory(), IDBKeyRange
  })
  const replica = new Replica(db, collections, clock)
  const apply = (items) => replica.remoteTransaction(['tasks'], () => replica.applyServerRecords('tasks', items))
  // every write that reaches the table, to see which applications wrote nothing
  const written = []
  db.close()
  db.use({
    stack: 'dbcore',
    name: 'WriteLog',
    create: (down) => ({
      ...down,
      table: (name) => {
        const table = down.table(name)
        if (name !== 'tasks') return table
        return { ...table, mutate: (req) => { written.push([req.type, req.keys ?? req.values.map((value) => value.id)]); return table.mutate(req) } }
      }
    })
  })
  await db.open()
  return { db, replica, apply, written, tasks: db.table('tasks'), outbox: db.table(OUTBOX_TABLE) }
}

test('server records are put and deleted without entering the outbox', async () => {
  const { apply, tasks, outbox } = await openReplica()
  await apply([{ key: 'a', record: { id: 'a', title: 'A' } }, { key: 2, record: { id: 2, title: 'two' } }])
  await apply([{ key: 'a', record: null }, { key: 'never-had', record: null }])
  assert.deepEqual(await tasks.toArray(), [{ id: 2, title: 'two' }])
  assert.equal(await outbox.count(), 0)
})

test('a record equal to the local copy writes nothing, whatever its key order', async () => {
  const { apply, tasks, written } = await openReplica()
  await apply([{ key: 'a', record: { id: 'a', title: 'A', tags: ['x'], meta: { b: 1, a: 2 } } }])
  assert.deepEqual(written, [['put', ['a']]])
  written.length = 0
  await apply([{ key: 'a', record: { meta: { a: 2, b: 1 }, tags: ['x'], title: 'A', id: 'a' } }])
  assert.deepEqual(written, [])
  await apply([{ key: 'a', record: { id: 'a', title: 'B', tags: ['x'], meta: { a: 2, b: 1 } } }])
  assert.deepEqual(written, [['put', ['a']]])
})

test('pending writes are re-applied on top of the server record', async () => {
  const { apply, tasks, outbox } = await openReplica()
  await tasks.put({ id: 'a', title: 'mine', done: false })
  await tasks.update('a', { done: true })
  await tasks.add({ id: 'b', title: 'new here' })
  await tasks.put({ id: 'c', title: 'to delete' })
  await tasks.delete('c')
  await apply([
    { key: 'a', record: { id: 'a', title: 'theirs', done: false, owner: 'ann' } },
    { key: 'b', record: null },
    { key: 'c', record: { id: 'c', title: 'still on server' } }
  ])
  // the put of 'a' replaces the server's record, then the update sets done
  assert.deepEqual(await tasks.get('a'), { id: 'a', title: 'mine', done: true })
  assert.deepEqual(await tasks.get('b'), { id: 'b', title: 'new here' })
  assert.equal(await tasks.get('c'), undefined)
  assert.equal(await outbox.count(), 5)
})

test('a pending update lands on the server record; on a deleted record it brings nothing back', async () => {
  const { apply, tasks, replica } = await openReplica()
  await replica.remoteTransaction(['tasks'], () => tasks.put({ id: 'a', title: 'A', done: false }))
  await tasks.update('a', { done: true })
  await apply([{ key: 'a', record: { id: 'a', title: 'renamed', done: false } }])
  assert.deepEqual(await tasks.get('a'), { id: 'a', title: 'renamed', done: true })
  await apply([{ key: 'a', record: null }])
  assert.equal(await tasks.get('a'), undefined)
})

test('a reset clears the collection but keeps records with pending writes', async () => {
  const { replica, tasks } = await openReplica()
  await replica.remoteTransaction(['tasks'], () => tasks.bulkPut([{ id: 'x' }, { id: 'y' }, { id: 1 }]))
  await tasks.update('y', { title: 'edited offline' })
  await replica.remoteTransaction(['tasks'], () => replica.clearCollection('tasks'))
  assert.deepEqual(await tasks.toArray(), [{ id: 'y', title: 'edited offline' }])
})

test('the clock is kept across restarts through the meta table and the outbox', async () => {
  const { replica, tasks, db } = await openReplica()
  replica.clock.observe('7fffffff00000003')
  await tasks.put({ id: 'a' })
  const stamp = (await db.table(OUTBOX_TABLE).toArray())[0].stamp
  assert.equal(stamp, '7fffffff00000004')
  const restored = new Replica(db, replica.collections, new HybridClock())
  await restored.restoreClock()
  assert.ok(restored.clock.next() > stamp)
})
