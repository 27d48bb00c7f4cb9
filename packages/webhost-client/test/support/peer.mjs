// One SDK client as a separate program, for tests written in other languages: it connects with
// the URLs and key it is given, syncs until the records it is told to wait for are there, then
// makes the writes named on its command line, syncs them and prints its replica as JSON.
//
//   node peer.mjs <api url> <sync url> <api key> <database name> <wait for json> <writes json>
import 'fake-indexeddb/auto'
import { WebHostClient } from '../../src/index.js'

const [apiUrl, syncUrl, apiKey, name, waitForJson, writesJson] = process.argv.slice(2)
const waitFor = JSON.parse(waitForJson) // { key: { field: value, ... } }
const writes = JSON.parse(writesJson) // [{ op: 'add' | 'put' | 'update' | 'delete', ...}]

const client = new WebHostClient({ apiUrl, syncUrl, apiKey })
const { db } = await client.connect({ name, schema: { notes: '@id, author' } })
const matches = (record, wanted) => record && Object.entries(wanted).every(([field, value]) => record[field] === value)
const deadline = Date.now() + 60_000
for (;;) {
  await client.sync()
  const records = await db.notes.toArray()
  const byKey = Object.fromEntries(records.map((record) => [record.id, record]))
  if (Object.entries(waitFor).every(([key, wanted]) => matches(byKey[key], wanted))) break
  if (Date.now() > deadline) {
    console.error(`timed out; replica: ${JSON.stringify(records)}`)
    process.exit(1)
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
}
for (const write of writes) {
  if (write.op === 'add') await db.notes.add(write.record)
  else if (write.op === 'put') await db.notes.put(write.record)
  else if (write.op === 'update') await db.notes.update(write.key, write.changes)
  else if (write.op === 'delete') await db.notes.delete(write.key)
}
await client.sync()
console.log(JSON.stringify(await db.notes.toArray()))
await client.close()
