// Two clients editing the same records while offline: they converge, per field, last writer
// wins; a delete wins over an update; @id inserts never collide; a refused write is reported.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { openDevice, serverRecords, settle } from './support/clients.js'
import { waitFor } from './support/wait.js'

let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('conflicts')
})

after(async () => {
  await platform.remove()
})

/** Two devices that both hold `records`, then both offline; `run` gets them and cleans up. */
async function withTwoOfflineDevices (schema, records, run) {
  const alice = await openDevice(deployment, { schema })
  const bob = await openDevice(deployment, { schema })
  try {
    const [collection] = Object.keys(schema)
    await alice.db.table(collection).bulkPut(records)
    await settle(alice.client)
    await settle(bob.client)
    assert.equal(await bob.db.table(collection).count(), records.length)
    await alice.link.cut()
    await bob.link.cut()
    await run(alice, bob)
  } finally {
    await alice.close()
    await bob.close()
  }
}

// back online one after the other, in the order given, so the server sees their pushes in that order
async function reconnectAndSettle (...devices) {
  for (const device of devices) {
    await device.link.restore()
    await settle(device.client)
  }
  // the first ones back pull what the later ones pushed
  for (const device of devices) await settle(device.client)
}

// a later write must have a later stamp: wait for the clock to move on, not for a set time
async function nextMillisecond () {
  const now = Date.now()
  await waitFor(() => Date.now() > now, { interval: 1 })
}

test('edits of different fields of one record are both kept', async () => {
  const schema = { docs: 'id' }
  await withTwoOfflineDevices(schema, [{ id: 'd1', title: 'Draft', body: 'text', tags: ['a'] }], async (alice, bob) => {
    await alice.db.docs.update('d1', { title: 'Final title' })
    await bob.db.docs.update('d1', { body: 'better text', tags: undefined })
    await reconnectAndSettle(alice, bob)
    const expected = { id: 'd1', title: 'Final title', body: 'better text' }
    assert.deepEqual(await alice.db.docs.get('d1'), expected)
    assert.deepEqual(await bob.db.docs.get('d1'), expected)
    assert.deepEqual(await serverRecords(deployment, 'docs'), [expected])
  })
})

test('edits of the same field converge on the later write', async () => {
  const schema = { cards: 'id' }
  await withTwoOfflineDevices(schema, [{ id: 1, title: 'A', color: 'red' }], async (alice, bob) => {
    await alice.db.cards.update(1, { title: 'from alice', color: 'green' })
    await nextMillisecond()
    await bob.db.cards.update(1, { title: 'from bob' })
    // alice comes back last: arriving last must not make her earlier write win
    await reconnectAndSettle(bob, alice)
    const expected = { id: 1, title: 'from bob', color: 'green' }
    assert.deepEqual(await alice.db.cards.get(1), expected)
    assert.deepEqual(await bob.db.cards.get(1), expected)
    assert.deepEqual(await serverRecords(deployment, 'cards'), [expected])
  })
})

test('a delete wins over a concurrent update, even a later one', async () => {
  const schema = { items: 'id' }
  await withTwoOfflineDevices(schema, [{ id: 'x', n: 1 }, { id: 'y', n: 2 }], async (alice, bob) => {
    await alice.db.items.delete('x')
    await nextMillisecond()
    await bob.db.items.update('x', { n: 100 })
    await bob.db.items.update('y', { n: 200 })
    await reconnectAndSettle(alice, bob)
    assert.deepEqual(await alice.db.items.toArray(), [{ id: 'y', n: 200 }])
    assert.deepEqual(await bob.db.items.toArray(), [{ id: 'y', n: 200 }])
    assert.deepEqual(await serverRecords(deployment, 'items'), [{ id: 'y', n: 200 }])
  })
})

test('@id records added on two offline clients all arrive, none overwriting another', async () => {
  const schema = { notes: '@id, author' }
  await withTwoOfflineDevices(schema, [], async (alice, bob) => {
    await alice.db.notes.bulkAdd(Array.from({ length: 50 }, (_, n) => ({ author: 'alice', n })))
    await bob.db.notes.bulkAdd(Array.from({ length: 50 }, (_, n) => ({ author: 'bob', n })))
    await bob.db.notes.add({ author: 'bob', n: 50 })
    await reconnectAndSettle(alice, bob)
    const onServer = await serverRecords(deployment, 'notes')
    assert.equal(onServer.length, 101)
    assert.equal(new Set(onServer.map((note) => note.id)).size, 101)
    assert.deepEqual(await alice.db.notes.orderBy('id').toArray(), onServer)
    assert.deepEqual(await bob.db.notes.orderBy('id').toArray(), onServer)
  })
})

test('a write the server refuses is reported, dropped, and replaced by the server copy', async () => {
  const schema = { users: 'id, &email' }
  await withTwoOfflineDevices(schema, [], async (alice, bob) => {
    const rejected = []
    bob.client.on('rejected', (rejection) => rejected.push(rejection))
    await alice.db.users.add({ id: 'ann', email: 'shared@example.com' })
    await bob.db.users.add({ id: 'bea', email: 'shared@example.com' })
    await reconnectAndSettle(alice, bob)
    assert.equal(rejected.length, 1)
    assert.equal(rejected[0].collection, 'users')
    assert.equal(rejected[0].key, 'bea')
    assert.equal(rejected[0].op, 'insert')
    assert.equal(rejected[0].error.code, 'conflict')
    const expected = [{ id: 'ann', email: 'shared@example.com' }]
    assert.deepEqual(await serverRecords(deployment, 'users'), expected)
    assert.deepEqual(await alice.db.users.toArray(), expected)
    assert.deepEqual(await bob.db.users.toArray(), expected)
    assert.equal(await bob.client.pendingWrites(), 0)
  })
})
