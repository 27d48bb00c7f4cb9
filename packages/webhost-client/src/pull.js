// Pulling: every synced collection with its cursor and scope filter, page after page while the
// server has more; each page's changes and the new cursors go in one local transaction.

import { WebHostError } from './errors.js'

const cursorMeta = (collection) => `cursor:${collection}`

/**
 * @param {object} options
 * @param {Map<string, string|undefined>} options.scopes collection -> REST filter (undefined: all)
 */
export async function pullAll ({ replica, http, clock, scopes, limit }) {
  const cursors = new Map()
  for (const collection of scopes.keys()) {
    cursors.set(collection, (await replica.getMeta(cursorMeta(collection)))?.cursor ?? null)
  }
  const failures = []
  let wanted = [...scopes.keys()]
  while (wanted.length > 0) {
    const collections = {}
    for (const name of wanted) {
      const filter = scopes.get(name)
      collections[name] = filter === undefined ? { cursor: cursors.get(name) } : { cursor: cursors.get(name), filter }
    }
    const answer = await http.request('POST', '/v1/sync/pull', { collections, limit })
    clock.observe(answer.clock)
    const pages = Object.entries(answer.collections ?? {}).filter(([name]) => wanted.includes(name))
    const more = []
    await replica.remoteTransaction(pages.filter(([, page]) => !page.error).map(([name]) => name), async () => {
      for (const [name, page] of pages) {
        if (page.error) {
          failures.push(`${name}: ${page.error.code}: ${page.error.message}`)
          continue
        }
        // the cursor was too old, from another filter or ahead of the server: start over
        if (page.reset) await replica.clearCollection(name)
        await replica.applyServerRecords(name, page.changes.map((change) => ({
          key: change.key,
          record: change.op === 'put' ? change.record : null
        })))
        await replica.setMeta(cursorMeta(name), { cursor: page.cursor, filter: scopes.get(name) ?? null })
        cursors.set(name, page.cursor)
        if (page.more) more.push(name)
      }
    })
    wanted = more
  }
  if (failures.length > 0) {
    throw new WebHostError(`pull refused for ${failures.join('; ')}`, { code: 'pull_refused' })
  }
}
