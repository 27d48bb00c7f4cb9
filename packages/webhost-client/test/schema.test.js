// Schema strings: '@id' and 'id' sync, '++id' is refused with a way out.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSchema, localStores } from '../src/schema.js'

test('@id becomes a plain local primary key; indexes pass through to Dexie', () => {
  const collections = parseSchema({ posts: '@id, title, &slug, *tags, [authorId+createdAt]', notes: 'key,text' })
  assert.deepEqual(collections.get('posts'), {
    name: 'posts',
    primaryKey: 'id',
    generatedKey: true,
    source: '@id, title, &slug, *tags, [authorId+createdAt]',
    localSource: 'id, title, &slug, *tags, [authorId+createdAt]'
  })
  assert.equal(collections.get('notes').generatedKey, false)
  assert.equal(collections.get('notes').source, 'key, text')
  const stores = localStores(collections)
  assert.equal(stores.posts, 'id, title, &slug, *tags, [authorId+createdAt]')
  assert.ok('$outbox' in stores && '$meta' in stores)
})

test('++id is refused, saying to use @id or id', () => {
  assert.throws(() => parseSchema({ posts: '++id, title' }), (error) => {
    assert.match(error.message, /'posts' uses '\+\+id'/)
    assert.match(error.message, /Use '@id'/)
    assert.match(error.message, /'id' \(the app chooses keys\)/)
    return true
  })
})

test('outbound, compound and nested primary keys and bad names are refused', () => {
  assert.throws(() => parseSchema({ posts: ', title' }), /empty entry/)
  assert.throws(() => parseSchema({ posts: '[a+b], title' }), /primary key '\[a\+b\]'/)
  assert.throws(() => parseSchema({ posts: 'a.b' }), /primary key 'a.b'/)
  assert.throws(() => parseSchema({ 'bad-name': 'id' }), /invalid collection name 'bad-name'/)
  assert.throws(() => parseSchema({ posts: 'id, @other' }), /only the primary key/)
  assert.throws(() => parseSchema({}), /names no collection/)
  assert.throws(() => parseSchema('posts'), /schema must be an object/)
})
