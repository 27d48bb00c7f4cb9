// The README's example, run as written (with this deployment's URLs and key) against a real
// WebHost: what it prints and what reaches the server.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Platform } from './support/platform.js'
import { serverRecords } from './support/clients.js'

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..')
let platform
let deployment

before(async () => {
  platform = new Platform()
  await platform.start()
  deployment = await platform.signUp('readme')
})

after(async () => {
  await platform.remove()
})

function readmeExample () {
  const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8')
  const block = readme.match(/<!-- example:start -->\s*```js\n([\s\S]*?)```\s*<!-- example:end -->/)
  assert.ok(block, 'the README has the example between its markers')
  return block[1]
}

test("the README's example runs as written and its records reach the server", async (t) => {
  let code = readmeExample()
  for (const [name, value] of [['API_URL', deployment.apiUrl], ['SYNC_URL', deployment.syncUrl], ['API_KEY', deployment.apiKey]]) {
    const declaration = new RegExp(`const ${name} = '[^']*'`)
    assert.match(code, declaration)
    code = code.replace(declaration, `const ${name} = '${value}'`)
  }
  // inside the package, so that '@webhost.systems/client' resolves to this package itself
  const script = join(PACKAGE, `readme-example-${process.pid}.mjs`)
  writeFileSync(script, code)
  t.after(() => rmSync(script, { force: true }))
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'fake-indexeddb/auto', script], {
    cwd: PACKAGE, timeout: 120_000
  })
  assert.match(stdout, /sync: syncing/)
  assert.match(stdout, /title: 'Hello, world'/)
  assert.match(stdout, /Once upon a time dark/)

  const posts = await serverRecords(deployment, 'posts')
  assert.equal(posts.length, 1)
  assert.deepEqual({ ...posts[0], id: undefined }, { id: undefined, title: 'Hello, world', authorId: 'ann', published: true })
  assert.match(posts[0].id, /^[0-9A-HJKMNP-TV-Z]{26}$/)
  assert.deepEqual(await serverRecords(deployment, 'comments'), [{ id: 'c1', postId: 1, text: 'First!' }])
})
