// The server killed (SIGKILL of `webhost up`'s process group) in the middle of a push and
// started again: the client sends the same transactions again, nothing is lost and nothing is
// applied twice.

import 'fake-indexeddb/auto'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Platform } from './support/platform.js'
import { openDevice, rest, serverRecords, settle } from './support/clients.js'

const schema = { orders: '@id, status' }
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('crash')
})

after(async () => {
  await platform.remove()
})

/**
 * fetch that can crash the server at the next push, and keeps every push answer.
 * `after-commit`: the push is answered (so it is committed), then the server is killed and the
 * answer lost; `in-flight`: the server is killed as soon as the push is sent.
 */
function crashingFetch (control) {
  return async (url, init) => {
    if (!url.endsWith('/v1/sync/push')) return fetch(url, init)
    const sent = JSON.parse(init.body)
    const crash = control.armed
    control.armed = null
    if (crash === 'in-flight') {
      const answer = fetch(url, init)
      answer.catch(() => {})
      await platform.kill()
      control.crashed.push({ crash, txids: sent.transactions.map((transaction) => transaction.txid) })
      return answer
    }
    const response = await fetch(url, init)
    const body = await response.clone().json()
    if (crash === 'after-commit' && response.ok) {
      await platform.kill()
      control.crashed.push({ crash, txids: sent.transactions.map((transaction) => transaction.txid) })
      throw new TypeError('fetch failed: the connection was reset')
    }
    if (response.ok) control.answers.push(...body.transactions)
    return response
  }
}

async function tenantRevision () {
  return (await rest(deployment, 'GET', '/v1/sync')).revision
}

/** No transaction was applied twice: each txid was answered as new at most once. */
function assertAppliedOnce (answers) {
  const applied = new Map()
  for (const answer of answers) {
    if (answer.duplicate) continue
    assert.ok(!applied.has(answer.txid), `${answer.txid} was applied twice`)
    applied.set(answer.txid, answer)
  }
}

/** Once settled, syncing again changes nothing on the server. */
async function assertQuiet (client) {
  const revision = await tenantRevision()
  await client.sync()
  assert.equal(await client.pendingWrites(), 0)
  assert.equal(await tenantRevision(), revision)
}

test('a push whose answer is lost in a crash is sent again and applied once', { timeout: 600_000 }, async () => {
  const control = { armed: null, crashed: [], answers: [] }
  const device = await openDevice(deployment, { schema, clientOptions: { fetch: crashingFetch(control) } })
  try {
    await settle(device.client)
    const ids = await device.db.orders.bulkAdd(
      Array.from({ length: 1500 }, (_, n) => ({ status: 'new', n })), { allKeys: true })
    await device.db.transaction('rw', device.db.orders, async () => {
      for (const id of ids.slice(0, 10)) await device.db.orders.update(id, { status: 'paid' })
    })
    await device.db.orders.bulkDelete(ids.slice(-5))

    control.armed = 'after-commit'
    await device.client.sync().catch(() => {})
    assert.equal(control.crashed.length, 1, 'the server was killed after committing a push')
    const lostTxids = control.crashed[0].txids
    assert.ok((await device.client.pendingWrites()) > 0, 'the unanswered push stays in the outbox')

    await platform.start()
    await settle(device.client, 300_000)

    // the retried transactions came back as duplicates: the server did not apply them again
    for (const txid of lostTxids) {
      const answers = control.answers.filter((answer) => answer.txid === txid)
      assert.ok(answers.length >= 1, `${txid} was sent again`)
      assert.ok(answers.every((answer) => answer.duplicate === true), `${txid} answered as a duplicate`)
    }
    const orders = await serverRecords(deployment, 'orders')
    assert.equal(orders.length, 1495)
    assert.equal(orders.filter((order) => order.status === 'paid').length, 10)
    assert.deepEqual(await device.db.orders.orderBy('id').toArray(), orders)
    assertAppliedOnce(control.answers)
    await assertQuiet(device.client)
  } finally {
    await device.close()
  }
})

test('a push in flight when the server is killed loses nothing and applies nothing twice', { timeout: 600_000 }, async () => {
  const control = { armed: null, crashed: [], answers: [] }
  const device = await openDevice(deployment, { schema: { lines: '@id, order' }, clientOptions: { fetch: crashingFetch(control) } })
  try {
    await settle(device.client)
    const ids = await device.db.lines.bulkAdd(
      Array.from({ length: 2500 }, (_, n) => ({ order: n % 50, quantity: n })), { allKeys: true })
    await device.db.lines.where('order').equals(3).modify({ quantity: -1 })

    control.armed = 'in-flight'
    await device.client.sync().catch(() => {})
    assert.equal(control.crashed.length, 1, 'the server was killed during a push')
    await platform.start()
    await settle(device.client, 300_000)

    const lines = await serverRecords(deployment, 'lines')
    assert.equal(lines.length, ids.length)
    assert.equal(lines.filter((line) => line.quantity === -1).length, 50)
    assert.deepEqual(await device.db.lines.orderBy('id').toArray(), lines)
    // the killed push either committed (its retry is a duplicate) or did not (its retry is new)
    assertAppliedOnce(control.answers)
    for (const txid of control.crashed[0].txids) {
      assert.ok(control.answers.some((answer) => answer.txid === txid), `${txid} was sent again`)
    }
    await assertQuiet(device.client)
  } finally {
    await device.close()
  }
})
