// What the app hears when sync cannot work: a clear error and the `error` status, and never
// the API key in a message.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { openDevice, waitForStatus } from './support/clients.js'
import { waitFor } from './support/wait.js'
import { WebHostClient } from '../src/index.js'

let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('errors')
})

after(async () => {
  await platform.remove()
})

const assertNoKey = (error, key) => {
  assert.ok(!error.message.includes(key), `the key is not in: ${error.message}`)
  assert.ok(!String(error.stack).includes(key))
}

test('an unknown API key gives the error status and an error without the key', async () => {
  const wrongKey = 'whs_live_' + 'x'.repeat(40)
  const device = await openDevice({ ...deployment, apiKey: wrongKey }, { schema: { notes: '@id' } })
  try {
    await waitForStatus(device.client, 'error')
    await waitFor(() => device.errors.length > 0, { message: 'an error event' })
    const [error] = device.errors
    assert.equal(error.status, 401)
    assert.match(error.message, /PUT \/v1\/collections\/notes: 401/)
    assertNoKey(error, wrongKey)
    await assert.rejects(device.client.sync(), (rejection) => {
      assertNoKey(rejection, wrongKey)
      return rejection.status === 401
    })
    // writes still land locally and wait in the outbox
    await device.db.notes.add({ text: 'kept' })
    assert.equal(await device.client.pendingWrites(), 1)
  } finally {
    await device.close()
  }
})

test('an unreachable server gives the offline status and a network error without the key', async () => {
  const device = await openDevice(deployment, { schema: { notes: '@id' } })
  try {
    await waitForStatus(device.client, 'synced')
    await device.link.cut()
    await assert.rejects(device.client.sync(), (error) => {
      assertNoKey(error, deployment.apiKey)
      return error.name === 'NetworkError' && error.retryable
    })
    assert.equal(device.client.status, 'offline')
  } finally {
    await device.close()
  }
})

test('a scope the server cannot use is reported by collection', async () => {
  const device = await openDevice(deployment, { schema: { notes: '@id, kind' }, scopes: { notes: 'kind=within.3' } })
  try {
    await waitForStatus(device.client, 'error')
    await assert.rejects(device.client.sync(), /pull refused for notes: invalid_input: .*within/)
  } finally {
    await device.close()
  }
})

test('bad options are refused at once with a clear error', async () => {
  assert.throws(() => new WebHostClient({ apiUrl: 'ftp://x', apiKey: 'k' }), /apiUrl must be/)
  assert.throws(() => new WebHostClient({ apiUrl: 'http://x' }), /apiKey must be/)
  assert.throws(() => new WebHostClient({ apiUrl: 'http://x', apiKey: 'k', syncUrl: 'http://x' }), /syncUrl must be/)
  const client = new WebHostClient({ apiUrl: deployment.apiUrl, apiKey: deployment.apiKey })
  await assert.rejects(client.connect({ schema: { notes: '@id' } }), /needs a name/)
  assert.throws(() => client.yjs('doc'), /call connect\(\) first/)
  await assert.rejects(client.sync(), /call connect\(\) first/)
  await client.close()
})
