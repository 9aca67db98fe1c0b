/**
 * project.toml (project descriptor schema 0.2): a full document read into its typed value; other tools'
 * tables ignored; the minimal document; errors name the dotted key (the hostile cases are in
 * test/hardening/bad-input.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCairnError } from '../../src/oci/errors.js';
import { parseProjectToml } from '../../src/platform/project-toml.js';

const FULL = `
[_]
schema-version = "0.2"
id = "acme/shop"
name = "Shop"
version = "1.4.0"
authors = ["Ann <ann@example.com>"]
documentation-url = "https://example.com/docs"
source-url = "https://example.com/src"

[[_.licenses]]
type = "MIT"

[_.metadata]
team = { owner = "web", pager = 3 }

[io.buildpacks]
builder = "cairn/builder:24"
exclude = ["node_modules", "*.log"]

[[io.buildpacks.build.env]]
name = "BP_NODE_VERSION"
value = "20"

[[io.buildpacks.build.env]]
name = "EMPTY"
value = ""

[[io.buildpacks.pre.group]]
id = "acme/certs"
version = "1.0.0"

[[io.buildpacks.group]]
uri = "docker://acme/node:1"

[[io.buildpacks.group]]
id = "me/inline"
[io.buildpacks.group.script]
api = "0.10"
inline = "echo hi > $CNB_LAYERS_DIR/x"

[[io.buildpacks.post.group]]
id = "acme/scan"

[com.example.other-tool]
anything = [1, 2, 3]
`;

test('a full schema 0.2 descriptor', () => {
  // JSON round trip: TOML tables come back as null-prototype objects.
  const d = JSON.parse(JSON.stringify(parseProjectToml(FULL))) as unknown;
  assert.deepEqual(d, {
    project: {
      schemaVersion: '0.2',
      id: 'acme/shop',
      name: 'Shop',
      version: '1.4.0',
      authors: ['Ann <ann@example.com>'],
      documentationUrl: 'https://example.com/docs',
      sourceUrl: 'https://example.com/src',
      licenses: [{ type: 'MIT' }],
      metadata: { team: { owner: 'web', pager: 3 } },
    },
    builder: 'cairn/builder:24',
    exclude: ['node_modules', '*.log'],
    buildEnv: [{ name: 'BP_NODE_VERSION', value: '20' }, { name: 'EMPTY', value: '' }],
    group: [{ uri: 'docker://acme/node:1' }, { id: 'me/inline', script: { api: '0.10', inline: 'echo hi > $CNB_LAYERS_DIR/x', shell: '/bin/sh' } }],
    preGroup: [{ id: 'acme/certs', version: '1.0.0' }],
    postGroup: [{ id: 'acme/scan' }],
  });
});

test('the minimal descriptor: only [_] schema-version', () => {
  assert.deepEqual(parseProjectToml('[_]\nschema-version = "0.2"\n'), {
    project: { schemaVersion: '0.2', authors: [], licenses: [], metadata: {} },
    buildEnv: [], group: [], preGroup: [], postGroup: [],
  });
});

test('include alone is kept; errors name the file and the dotted key', () => {
  assert.deepEqual(parseProjectToml('[_]\nschema-version = "0.2"\n[io.buildpacks]\ninclude = ["src"]\n').include, ['src']);
  assert.throws(() => parseProjectToml('[_]\nschema-version = "0.2"\n[[io.buildpacks.pre.group]]\nid = "a/b"\nuri = ""\n', 'app/project.toml'),
    (e: unknown) => isCairnError(e, 'INVALID_ARGUMENT') && e.message === 'app/project.toml: io.buildpacks.pre.group[0].uri must not be empty');
  assert.throws(() => parseProjectToml('[_]\nschema-version = "0.2"\n[[io.buildpacks.pre.group]]\nid = "a/b"\n[io.buildpacks.pre.group.script]\ninline = "x"\n'),
    (e: unknown) => isCairnError(e, 'INVALID_ARGUMENT') && /unknown key "io\.buildpacks\.pre\.group\[0\]\.script"/.test(e.message));
});
