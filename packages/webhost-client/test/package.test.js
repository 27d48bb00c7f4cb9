// `npm pack` makes a package an app can install: its files, its entry point and types that
// type-check an app's code (and catch a wrong use of the API).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const TSC = join(PACKAGE, 'node_modules/typescript/bin/tsc')
const DEPENDENCIES = ['dexie', 'yjs', 'y-websocket', 'y-indexeddb', 'y-protocols', 'lib0', 'ws', 'isomorphic.js']

const APP = `
import { WebHostClient, type SyncStatus, type Rejection } from '@webhost.systems/client'
const client = new WebHostClient({ apiUrl: 'http://127.0.0.1:8001', apiKey: 'whs_live_x' })
const { db, doc } = await client.connect({
  name: 'blog',
  schema: { posts: '@id, title, authorId', comments: 'id, postId' },
  scopes: { comments: 'postId=eq.1' }
})
const id = await db.posts.add({ title: 'Hello', authorId: 'ann' })
const found = await db.comments.where('postId').equals(1).toArray()
const status: SyncStatus = client.status
client.on('rejected', (rejection: Rejection) => rejection.error.message)
client.getYjsText('notes').insert(0, 'hi')
doc.getMap('settings').set('theme', 'dark')
await client.close()
export { id, found, status }
`

function typeCheck (directory, source) {
  writeFileSync(join(directory, 'app.ts'), source)
  return spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022',
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', 'app.ts'], { cwd: directory, encoding: 'utf8' })
}

test('the packed package type-checks an app, and its types reject a wrong use', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'webhost-client-pack-'))
  t.after(() => rmSync(directory, { recursive: true, force: true }))
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', directory], { cwd: PACKAGE, encoding: 'utf8' }))
  const files = packed.files.map((file) => file.path)
  for (const file of ['package.json', 'README.md', 'src/index.js', 'src/index.d.ts', 'src/client.js', 'src/capture.js']) {
    assert.ok(files.includes(file), `${file} is in the package`)
  }
  assert.ok(!files.some((file) => file.startsWith('test/')), 'tests stay out of the package')

  const installed = join(directory, 'node_modules/@webhost.systems/client')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['-xzf', join(directory, packed.filename), '-C', installed, '--strip-components=1'])
  for (const dependency of DEPENDENCIES) {
    symlinkSync(join(PACKAGE, 'node_modules', dependency), join(directory, 'node_modules', dependency))
  }
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ type: 'module' }))

  const good = typeCheck(directory, APP)
  assert.equal(good.status, 0, good.stdout + good.stderr)
  const wrongStatus = typeCheck(directory, APP.replace("const status: SyncStatus = client.status", "const status: 'nope' = client.status"))
  assert.match(wrongStatus.stdout, /Type 'SyncStatus' is not assignable to type '"nope"'/)
  const wrongScope = typeCheck(directory, APP.replace("scopes: { comments:", "scopes: { drafts:"))
  assert.match(wrongScope.stdout, /'drafts' does not exist/)

  // the packed entry point loads in Node
  writeFileSync(join(directory, 'load.mjs'), "import { WebHostClient, ulid } from '@webhost.systems/client'\nconsole.log(typeof WebHostClient, ulid().length)\n")
  assert.equal(execFileSync(process.execPath, ['load.mjs'], { cwd: directory, encoding: 'utf8' }).trim(), 'function 26')
})
