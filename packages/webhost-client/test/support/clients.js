// Clients the way an app makes them, plus what the tests need around them: a REST view of the
// server's records and waiting for a status.

import { WebHostClient } from '../../src/index.js'
import { NetworkLink } from './link.js'
import { waitFor } from './wait.js'

let devices = 0

/**
 * A client on a "device" of its own (its own local databases), reaching the server through a
 * link the test can cut. Quick retries keep the tests short.
 */
export async function openDevice (deployment, { name = 'app', schema, scopes, ...options } = {}) {
  const link = await new NetworkLink(deployment.apiUrl).open()
  const localName = options.localName ?? `device-${process.pid}-${++devices}`
  const client = new WebHostClient({
    apiUrl: link.httpUrl,
    syncUrl: link.wsUrl,
    apiKey: deployment.apiKey,
    retry: { initialDelay: 100, maxDelay: 1000 },
    // edits must travel through the server, not between clients of this one process
    broadcast: false,
    ...options.clientOptions
  })
  const errors = []
  client.on('error', (error) => errors.push(error))
  const { db, doc } = await client.connect({ name, schema, scopes, localName, ...options.connect })
  return { client, db, doc, link, localName, errors, close: async () => { await client.close(); await link.cut() } }
}

export function waitForStatus (client, status, timeout = 60_000) {
  return waitFor(() => client.status === status, { timeout, interval: 20, message: `status ${status}` })
}

/** Waits until the client has pushed everything and pulled up to now. */
export async function settle (client, timeout = 60_000) {
  await waitFor(async () => {
    await client.sync()
    return (await client.pendingWrites()) === 0
  }, { timeout, message: 'sync to settle' })
}

/** The server's records of a collection through REST, sorted by key. */
export async function serverRecords (deployment, collection, query = '') {
  const records = []
  for (let offset = 0; ; offset += 1000) {
    const separator = query ? '&' : ''
    const page = await rest(deployment, 'GET', `/v1/collections/${collection}/records?${query}${separator}limit=1000&offset=${offset}`)
    records.push(...page)
    if (page.length < 1000) break
  }
  return records.sort((left, right) => compareKeys(left.id, right.id))
}

export async function rest (deployment, method, path, body) {
  const response = await fetch(deployment.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${deployment.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : null
}

export function compareKeys (left, right) {
  if (typeof left !== typeof right) return typeof left < typeof right ? -1 : 1
  return left < right ? -1 : left > right ? 1 : 0
}
