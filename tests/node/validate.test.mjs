// Validation corpus: corpus/valid/*.yaml and corpus/invalid/*.yaml hold one
// entity each. Two halves:
//   1. Backstage's own rules (catalog-model's policies and kind validators,
//      plus the scaffolder's Template validator, combined the way the catalog
//      backend's processing does) must put every file in the directory it is
//      in. This proves the corpus, so the second half tests against the truth
//      and not against our reading of it.
//   2. `stagedoor validate --format json <file>` must give the same verdict,
//      and name the file, line and column of each problem.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import yaml from 'yaml';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  entityEnvelopeSchemaValidator,
  entitySchemaValidator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  makeValidator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';
import { HERE, stagedoorBin } from './lib/server.mjs';

const CORPUS = path.join(HERE, 'corpus');
const files = verdict =>
  readdirSync(path.join(CORPUS, verdict))
    .filter(f => f.endsWith('.yaml'))
    .sort()
    .map(f => path.join(CORPUS, verdict, f));
const VALID = files('valid');
const INVALID = files('invalid');

/**
 * The field an invalid file is invalid for, from its `# field:` line: a dotted path, or
 * `(yaml)` / `(document)` when the file does not parse or is not a mapping. Required, so the
 * corpus checks why a file is rejected and not only that it is.
 */
function fieldOf(file) {
  const m = readFileSync(file, 'utf8').match(/^# field: (.+)$/m);
  assert.ok(m, `${path.basename(file)} has no "# field:" line naming the field at fault`);
  return m[1].trim();
}

/** Whether Backstage's error message names `field`, in any of the spellings its checks use. */
function backstageNames(message, field) {
  if (field === '(yaml)') return message.startsWith('YAML error');
  if (field === '(document)') return message.startsWith('expected an object');
  const parts = field.split('.');
  // ajv: /spec/type; the field-format policy: "tags.0" (no metadata. prefix); required: 'type'
  const spellings = new Set([field, `/${parts.join('/')}`, `/${parts.slice(0, 2).join('/')}`, `'${parts.at(-1)}'`]);
  if (parts[0] === 'metadata') spellings.add(`"${parts.slice(1).join('.')}"`);
  // an unknown root field: the envelope schema allows no additional properties at <root>
  if (parts.length === 1 && message.includes('<root> must NOT have additional properties')) return true;
  return [...spellings].some(s => message.includes(s));
}

// The policies the catalog backend applies to every entity by default.
const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(makeValidator()),
]);
const validateEnvelope = entityEnvelopeSchemaValidator();
const validateEntitySchema = entitySchemaValidator();
// The built-in kinds processor's validators, plus the Template validator that
// a Backstage app with the scaffolder backend installs next to them.
const kindValidators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
];

// After validation the built-in kinds processor turns these spec fields into
// relations, parsing each value as an entity ref with the field's default
// kind (none: the ref must name its kind). A ref that does not parse makes
// the entity fail processing, so it is as invalid as a schema error.
const RELATION_FIELDS = {
  Component: { owner: 'Group', subcomponentOf: 'Component', providesApis: 'API', consumesApis: 'API', dependsOn: null, dependencyOf: null, system: 'System' },
  API: { owner: 'Group', system: 'System' },
  Resource: { owner: 'Group', dependsOn: null, dependencyOf: null, system: 'System' },
  System: { owner: 'Group', domain: 'Domain' },
  Domain: { owner: 'Group', subdomainOf: 'Domain' },
  Group: { parent: 'Group', children: 'Group', members: 'User' },
  User: { memberOf: 'Group' },
};

function checkRelationRefs(entity) {
  for (const [field, defaultKind] of Object.entries(RELATION_FIELDS[entity.kind] ?? {})) {
    const value = entity.spec?.[field];
    if (value === undefined) continue;
    [value].flat().forEach((target, i) => {
      try {
        parseEntityRef(target, {
          defaultKind: defaultKind ?? undefined,
          defaultNamespace: entity.metadata.namespace,
        });
      } catch (e) {
        // name the field, as the catalog's processing error names the entity
        throw new Error(`spec.${field}${Array.isArray(value) ? `.${i}` : ''}: ${e.message}`);
      }
    });
  }
}

/**
 * Backstage's verdict on one file: the list of errors, in the order the
 * catalog's processing would meet them (it stops at the first).
 */
async function backstageErrors(file) {
  const text = readFileSync(file, 'utf8');
  // parse like the catalog's YAML reader: all documents, no merge keys
  const docs = yaml.parseAllDocuments(text, { merge: false }).filter(d => d);
  const entities = [];
  for (const doc of docs) {
    if (doc.errors?.length) return [`YAML error: ${doc.errors[0]}`];
    const json = doc.toJSON();
    if (json === null) continue;
    if (typeof json !== 'object' || Array.isArray(json)) return [`expected an object at the root, got ${Array.isArray(json) ? 'a list' : typeof json}`];
    entities.push(json);
  }
  assert.equal(entities.length, 1, `${file}: the corpus holds one entity per file`);
  try {
    let entity = validateEnvelope(entities[0]);
    const annotations = entity.metadata.annotations ?? {};
    if (typeof annotations !== 'object' || Array.isArray(annotations)) {
      return ['metadata.annotations must be a valid object'];
    }
    entity = await policy.enforce(entity);
    validateEntitySchema(entity);
    let recognised = false;
    for (const v of kindValidators) {
      // false: not this validator's kind; throws: its kind, but invalid
      if (await v.check(entity)) recognised = true;
    }
    if (!recognised) return [`no validator recognised kind ${entity.kind} with apiVersion ${entity.apiVersion}`];
    checkRelationRefs(entity);
  } catch (e) {
    return [String(e?.message ?? e)];
  }
  return [];
}

describe('the corpus agrees with Backstage', () => {
  test('the corpus is there and big enough to mean something', () => {
    assert.ok(existsSync(CORPUS), `no corpus at ${CORPUS}`);
    assert.ok(VALID.length >= 15, `${VALID.length} valid files`);
    assert.ok(INVALID.length >= 40, `${INVALID.length} invalid files`);
  });

  for (const file of VALID) {
    test(`valid/${path.basename(file)}`, async () => {
      assert.deepEqual(await backstageErrors(file), []);
    });
  }
  for (const file of INVALID) {
    test(`invalid/${path.basename(file)}`, async () => {
      const errors = await backstageErrors(file);
      assert.ok(errors.length > 0, 'Backstage accepts this file, so it belongs in corpus/valid');
      const field = fieldOf(file);
      assert.ok(backstageNames(errors[0], field), `Backstage rejects it for another reason than ${field}: ${errors[0]}`);
    });
  }
});

describe('stagedoor validate agrees with Backstage', () => {
  const bin = stagedoorBin();

  function run(file) {
    // Not a skip: a missing binary is a failure of this half, said plainly.
    assert.ok(
      existsSync(bin),
      `Stagedoor binary not found at ${bin}: build it with \`cargo build -p stagedoor\` or set STAGEDOOR_BIN`,
    );
    const res = spawnSync(bin, ['validate', '--format', 'json', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.error, undefined, `could not run ${bin}: ${res.error}`);
    let report;
    try {
      report = JSON.parse(res.stdout);
    } catch {
      assert.fail(`stdout is not JSON (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    }
    assert.ok(Array.isArray(report?.problems), `{"problems": [...]} expected, got ${res.stdout}`);
    return { status: res.status, problems: report.problems, stderr: res.stderr };
  }

  for (const file of VALID) {
    test(`valid/${path.basename(file)}`, () => {
      const { status, problems, stderr } = run(file);
      assert.deepEqual(problems, [], 'no problems reported');
      assert.equal(status, 0, `exit 0 expected; stderr: ${stderr}`);
    });
  }
  for (const file of INVALID) {
    test(`invalid/${path.basename(file)}`, () => {
      const { status, problems } = run(file);
      assert.notEqual(status, 0, 'non-zero exit expected');
      assert.ok(problems.length > 0, 'at least one problem reported');
      const field = fieldOf(file);
      const named = problems.some(p =>
        field === '(yaml)' ? p.message.startsWith('YAML error') :
        field === '(document)' ? p.message.startsWith('expected an entity') :
        p.message.startsWith(`${field}: `));
      assert.ok(named, `no problem names ${field}: ${JSON.stringify(problems.map(p => p.message))}`);
      const lines = readFileSync(file, 'utf8').split('\n').length;
      for (const p of problems) {
        assert.equal(path.resolve(p.file), path.resolve(file), 'problem names the file');
        assert.ok(Number.isInteger(p.line) && p.line >= 1 && p.line <= lines, `line within the file: ${p.line}`);
        assert.ok(Number.isInteger(p.column) && p.column >= 1, `column: ${p.column}`);
        assert.equal(typeof p.message, 'string');
        assert.ok(p.message.trim().length > 0, 'message is not empty');
      }
    });
  }
});
