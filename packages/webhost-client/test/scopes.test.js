// Sync scopes: a filter narrows a collection; records that leave it are removed locally,
// records that enter it arrive, live; other collections sync whole; a new filter starts over.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { compareKeys, openDevice, rest, serverRecords, settle } from './support/clients.js'
import { waitFor } from './support/wait.js'

const schema = { tasks: 'id, projectId', projects: 'id' }
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('scopes')
  await rest(deployment, 'PUT', '/v1/collections/tasks', { schema: schema.tasks })
  await rest(deployment, 'PUT', '/v1/collections/projects', { schema: schema.projects })
  for (const task of [{ id: 't1', projectId: 42 }, { id: 't2', projectId: 42 }, { id: 't3', projectId: 7 }]) {
    await rest(deployment, 'PUT', `/v1/collections/tasks/records/${task.id}`, task)
  }
  for (const project of [{ id: 42, name: 'Answer' }, { id: 7, name: 'Seven' }]) {
    await rest(deployment, 'PUT', `/v1/collections/projects/records/${project.id}`, project)
  }
})

after(async () => {
  await platform.remove()
})

const keysOf = async (table) => (await table.toCollection().primaryKeys()).sort(compareKeys)

test('records leave and enter a scope as they change, by any writer', async () => {
  const device = await openDevice(deployment, { schema, scopes: { tasks: 'projectId=eq.42' } })
  try {
    await settle(device.client)
    assert.deepEqual(await keysOf(device.db.tasks), ['t1', 't2'])
    assert.deepEqual(await keysOf(device.db.projects), [7, 42])

    // REST writes reach the device through the live socket
    await rest(deployment, 'PATCH', '/v1/collections/tasks/records/t2', { projectId: 7 })
    await rest(deployment, 'PATCH', '/v1/collections/tasks/records/t3', { projectId: 42 })
    await waitFor(async () => (await keysOf(device.db.tasks)).join() === 't1,t3', { message: 'scope followed REST writes' })
    assert.deepEqual(await device.db.tasks.get('t3'), { id: 't3', projectId: 42 })

    // a local write that moves a record out of the scope: pushed, then removed locally
    await device.db.tasks.update('t1', { projectId: 7 })
    await waitFor(async () => (await keysOf(device.db.tasks)).join() === 't3', { message: 't1 left the scope' })
    assert.deepEqual((await serverRecords(deployment, 'tasks', 'projectId=eq.7')).map((task) => task.id), ['t1', 't2'])
  } finally {
    await device.close()
  }
})

test('another scope on the same local database starts the collection over', async () => {
  const first = await openDevice(deployment, { schema, scopes: { tasks: 'projectId=eq.42' } })
  await settle(first.client)
  const before = await keysOf(first.db.tasks)
  await first.close()
  const again = await openDevice(deployment, { schema, scopes: { tasks: 'projectId=eq.7' }, localName: first.localName })
  try {
    await settle(again.client)
    const expected = (await serverRecords(deployment, 'tasks', 'projectId=eq.7')).map((task) => task.id)
    assert.notDeepEqual(before, expected)
    assert.deepEqual(await keysOf(again.db.tasks), expected)
  } finally {
    await again.close()
  }
})

test('a scope on a collection the schema does not name is refused at connect', async () => {
  const { WebHostClient } = await import('../src/index.js')
  const client = new WebHostClient({ apiUrl: deployment.apiUrl, apiKey: deployment.apiKey })
  await assert.rejects(client.connect({ name: 'bad-scope', schema, scopes: { notes: 'a=eq.1' } }), /scope for 'notes'/)
  await assert.rejects(client.connect({ name: 'bad-scope', schema: { posts: '++id' } }), /use '@id'|Use '@id'/)
  await client.close()
})
