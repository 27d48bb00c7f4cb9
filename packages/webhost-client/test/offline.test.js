// Writes made offline: kept locally, pushed when the connection comes back, and seen live by
// other clients; an app that starts offline sends them on its next connection.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { liveQuery } from 'dexie'
import { Platform } from './support/platform.js'
import { openDevice, serverRecords, settle, waitForStatus } from './support/clients.js'
import { waitFor } from './support/wait.js'

const schema = { tasks: '@id, projectId, done', tags: 'id' }
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('offline')
})

after(async () => {
  await platform.remove()
})

test('writes made offline are pushed on reconnect and reach another client live', async () => {
  const alice = await openDevice(deployment, { schema })
  const bob = await openDevice(deployment, { schema })
  const statuses = []
  alice.client.on('status', (status) => statuses.push(status))
  try {
    await waitForStatus(alice.client, 'synced')
    await waitForStatus(bob.client, 'synced')
    const kept = await alice.db.tasks.add({ title: 'kept', projectId: 1, done: false })
    const dropped = await alice.db.tasks.add({ title: 'dropped', projectId: 1, done: false })
    await waitFor(async () => (await bob.db.tasks.count()) === 2, { message: 'bob sees the online writes' })

    await alice.link.cut()
    await waitForStatus(alice.client, 'offline')
    await alice.db.transaction('rw', alice.db.tasks, alice.db.tags, async () => {
      await alice.db.tasks.update(kept, { done: true, title: 'kept and done' })
      await alice.db.tasks.delete(dropped)
      await alice.db.tags.bulkPut([{ id: 'urgent', color: 'red' }, { id: 7, color: 'blue' }])
    })
    const added = await alice.db.tasks.add({ title: 'added offline', projectId: 2, done: false })
    assert.equal(await alice.client.pendingWrites(), 5)
    assert.equal(alice.client.status, 'offline')

    await alice.link.restore()
    // bob never asks: the live socket tells him to pull
    await waitFor(async () => (await bob.db.tags.count()) === 2 && (await bob.db.tasks.count()) === 2, {
      timeout: 60_000, message: "alice's offline writes at bob"
    })
    assert.deepEqual(await bob.db.tasks.get(kept), { id: kept, title: 'kept and done', projectId: 1, done: true })
    assert.deepEqual(await bob.db.tasks.get(added), { id: added, title: 'added offline', projectId: 2, done: false })
    assert.equal(await bob.db.tasks.get(dropped), undefined)
    assert.deepEqual(await bob.db.tags.toArray(), [{ id: 7, color: 'blue' }, { id: 'urgent', color: 'red' }])
    await waitForStatus(alice.client, 'synced')
    assert.equal(await alice.client.pendingWrites(), 0)
    assert.deepEqual((await serverRecords(deployment, 'tasks')).map((task) => task.title).sort(), ['added offline', 'kept and done'])
    for (const status of ['synced', 'offline', 'syncing']) assert.ok(statuses.includes(status), `status ${status} was reported`)
    assert.equal(statuses.at(-1), 'synced')
  } finally {
    await alice.close()
    await bob.close()
  }
})

test('an app that starts offline keeps its writes and sends them on its next start', async () => {
  const first = await openDevice(deployment, { name: 'field-notes', schema: { notes: '@id, site' } })
  await first.link.cut()
  await first.db.notes.bulkAdd([{ site: 'north', text: 'a' }, { site: 'south', text: 'b' }])
  await first.db.notes.where('site').equals('north').modify({ text: 'a, revised' })
  await waitForStatus(first.client, 'offline')
  await first.close()

  const again = await openDevice(deployment, { name: 'field-notes', schema: { notes: '@id, site' }, localName: first.localName })
  try {
    await settle(again.client)
    const notes = await serverRecords(deployment, 'notes')
    assert.deepEqual(notes.map(({ site, text }) => ({ site, text })), [{ site: 'north', text: 'a, revised' }, { site: 'south', text: 'b' }])
    assert.deepEqual(await again.db.notes.toArray(), notes)
  } finally {
    await again.close()
  }
})

test("a client's own writes coming back from the server write nothing locally", async () => {
  const device = await openDevice(deployment, { name: 'echo', schema: { echoes: '@id' } })
  const seen = []
  const subscription = liveQuery(() => device.db.echoes.toArray()).subscribe((echoes) => {
    seen.push(echoes.map((echo) => echo.text).join())
  })
  try {
    await settle(device.client)
    await waitFor(() => seen.length === 1, { message: 'the first answer of the query' })
    const id = await device.db.echoes.add({ text: 'mine' })
    await device.db.echoes.update(id, { text: 'mine, edited' })
    await settle(device.client)
    // the pull after the push brought the record back; a marker write shows what came in between
    await device.db.echoes.add({ text: 'marker' })
    await waitFor(() => seen.at(-1) === 'mine, edited,marker', { message: 'the marker write' })
    assert.deepEqual(seen.filter((texts) => texts !== 'mine'), ['', 'mine, edited', 'mine, edited,marker'])
  } finally {
    subscription.unsubscribe()
    await device.close()
  }
})
