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

/** fetch that counts the requests to each path under the deployment's URL. */
function countingFetch (counts) {
  const base = new URL(deployment.apiUrl).pathname.replace(/\/+$/, '')
  return (url, init) => {
    const path = new URL(url).pathname.slice(base.length)
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

test("a transaction larger than the server's body limit goes in several pushes; a write no push can carry is refused", { timeout: 300_000 }, async () => {
  const requests = new Map()
  const device = await openDevice(deployment, { schema: { photos: '@id' }, clientOptions: { fetch: countingFetch(requests) } })
  const rejected = []
  device.client.on('rejected', (rejection) => rejected.push(rejection))
  try {
    await settle(device.client)
    const { limits } = await (await fetch(`${deployment.apiUrl}/v1/sync`, { headers: { authorization: `Bearer ${deployment.apiKey}` } })).json()
    const part = 'p'.repeat(Math.floor(limits.max_body_bytes / 3))
    const pushesBefore = requests.get('/v1/sync/push') ?? 0
    const ids = await device.db.photos.bulkAdd(Array.from({ length: 6 }, (_, n) => ({ n, data: part })), { allKeys: true })
    const tooLarge = await device.db.photos.add({ n: 'huge', data: 'h'.repeat(limits.max_body_bytes) })
    await settle(device.client)
    assert.ok(requests.get('/v1/sync/push') - pushesBefore >= 3, 'split into pushes within the body limit')
    const onServer = await serverRecords(deployment, 'photos')
    assert.deepEqual(onServer.map((photo) => photo.id), ids)
    assert.ok(onServer.every((photo) => photo.data === part))
    assert.equal(rejected.length, 1)
    assert.equal(rejected[0].key, tooLarge)
    assert.equal(rejected[0].error.code, 'payload_too_large')
    assert.equal(rejected[0].record, null)
    // the server has no such record, so the replica has none either
    assert.equal(await device.db.photos.get(tooLarge), undefined)
    assert.equal(await device.db.photos.count(), 6)
  } finally {
    await device.close()
  }
})
