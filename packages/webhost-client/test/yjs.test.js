// Yjs documents through the real server: edits made offline reach other clients on reconnect,
// and survive a restart of the app in between (y-indexeddb).

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { openDevice } from './support/clients.js'
import { waitFor } from './support/wait.js'

const schema = { notes: '@id, title' }
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('yjs')
})

after(async () => {
  await platform.remove()
})

test('edits made offline reach the other client on reconnect, merged with its own', async () => {
  const alice = await openDevice(deployment, { name: 'board', schema })
  const bob = await openDevice(deployment, { name: 'board', schema })
  try {
    assert.equal(alice.doc, alice.client.yjs('board'))
    alice.client.getYjsText('text').insert(0, 'hello')
    await waitFor(() => bob.client.getYjsText('text').toString() === 'hello', { message: 'online edit relayed' })

    await alice.link.cut()
    await waitFor(() => !alice.client.yjsProvider('board').wsconnected, { message: 'alice offline' })
    alice.client.getYjsText('text').insert(5, ' world')
    alice.client.getYjsMap('settings').set('color', 'blue')
    alice.client.getYjsArray('log').push(['offline edit'])
    bob.client.getYjsText('text').insert(0, '> ')
    await alice.link.restore()

    const converged = () => alice.client.getYjsText('text').toString() === '> hello world' &&
      bob.client.getYjsText('text').toString() === '> hello world' &&
      bob.client.getYjsMap('settings').get('color') === 'blue' &&
      bob.client.getYjsArray('log').toArray().join() === 'offline edit'
    await waitFor(converged, { timeout: 60_000, message: 'both documents converged' })
  } finally {
    await alice.close()
    await bob.close()
  }
})

test('offline edits are kept across a restart of the app and sent once it is online', async () => {
  const carol = await openDevice(deployment, { name: 'journal', schema })
  await waitFor(() => carol.client.yjsProvider('journal').synced, { message: 'carol synced' })
  await carol.link.cut()
  carol.client.yjs('journal').getText('entries').insert(0, 'written on a plane')
  await carol.close()

  const dave = await openDevice(deployment, { name: 'journal', schema })
  await waitFor(() => dave.client.yjsProvider('journal').synced, { message: 'dave synced' })
  // the server has not seen carol's edit: it exists only in her IndexedDB
  assert.equal(dave.client.yjs('journal').getText('entries').toString(), '')

  const carolAgain = await openDevice(deployment, { name: 'journal', schema, localName: carol.localName })
  try {
    await waitFor(() => dave.client.yjs('journal').getText('entries').toString() === 'written on a plane', {
      timeout: 60_000, message: 'the stored offline edit reached dave'
    })
    assert.equal(carolAgain.client.yjs('journal').getText('entries').toString(), 'written on a plane')
  } finally {
    await carolAgain.close()
    await dave.close()
  }
})
