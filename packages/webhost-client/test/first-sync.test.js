// A first sync of 10,000 records: pushed by one client in pieces within the server's limits,
// pulled by a new client in pages, arriving whole.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { openDevice, serverRecords, settle } from './support/clients.js'

const COUNT = 10_000
const schema = { readings: '@id, sensor' }
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('first-sync')
})

after(async () => {
  await platform.remove()
})

/** fetch that counts the requests to each path. */
function countingFetch (counts) {
  return (url, init) => {
    const path = new URL(url).pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    return fetch(url, init)
  }
}

test('10,000 records pushed in one transaction reach a new client whole, in pages', { timeout: 600_000 }, async () => {
  const writerRequests = new Map()
  const writer = await openDevice(deployment, { schema, clientOptions: { fetch: countingFetch(writerRequests) } })
  const readings = Array.from({ length: COUNT }, (_, n) => ({ sensor: `s${n % 10}`, n, value: n / 4 }))
  try {
    await writer.db.readings.bulkAdd(readings)
    await settle(writer.client, 300_000)
    assert.ok(writerRequests.get('/v1/sync/push') >= COUNT / 1000, 'pushed in pieces of at most max_mutations')
  } finally {
    await writer.close()
  }
  const onServer = await serverRecords(deployment, 'readings')
  assert.equal(onServer.length, COUNT)

  const readerRequests = new Map()
  const reader = await openDevice(deployment, { schema, clientOptions: { fetch: countingFetch(readerRequests) } })
  try {
    await settle(reader.client, 300_000)
    assert.equal(await reader.db.readings.count(), COUNT)
    assert.deepEqual(await reader.db.readings.orderBy('id').toArray(), onServer)
    assert.ok(readerRequests.get('/v1/sync/pull') >= COUNT / 1000, 'pulled in pages')
    assert.equal(await reader.client.pendingWrites(), 0)
  } finally {
    await reader.close()
  }
})
