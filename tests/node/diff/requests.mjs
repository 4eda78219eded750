// The requests the differential harness sends to both servers. Each is one whole response to
// compare: status, the content type's essence, and the JSON body after normalise() masks uids, etags,
// ids and the catalog's absolute directory. Grouped by endpoint; names are stable keys into
// recorded.json, so rename only with `npm run diff:record`.
const E = '/api/catalog/entities';
const Q = '/api/catalog/entities/by-query';
const enc = encodeURIComponent;
const filter = f => `filter=${enc(f)}`;

const get = (name, path) => ({ name, method: 'GET', path });
const post = (name, path, body, headers) => ({ name, method: 'POST', path, body, headers });

export const REQUESTS = [
  // GET /entities: filters, fields, order, paging
  get('entities: all, ordered', `${E}?order=asc:metadata.name&order=asc:kind`),
  get('entities: kind filter', `${E}?${filter('kind=component')}&order=asc:metadata.name`),
  get('entities: kind case-insensitive', `${E}?${filter('kind=COMPONENT')}&order=asc:metadata.name`),
  get('entities: namespace filter', `${E}?${filter('metadata.namespace=infra')}&order=asc:metadata.name`),
  get('entities: default namespace filter', `${E}?${filter('metadata.namespace=default,kind=group')}&order=asc:metadata.name`),
  get('entities: spec.type', `${E}?${filter('spec.type=service')}&order=asc:metadata.name`),
  get('entities: two filters ORed', `${E}?${filter('kind=api')}&${filter('kind=domain')}&order=asc:metadata.name`),
  get('entities: exists', `${E}?${filter('metadata.labels.tier')}&order=asc:metadata.name`),
  get('entities: label value', `${E}?${filter('metadata.labels.tier=core')}&order=asc:metadata.name`),
  get('entities: tags', `${E}?${filter('metadata.tags=payments')}&order=asc:metadata.name`),
  get('entities: relation owner lower', `${E}?${filter('relations.ownedBy=group:default/team-a')}&order=asc:metadata.name`),
  get('entities: relation owner mixed case', `${E}?${filter('relations.ownedBy=group:default/Team-A')}&order=asc:metadata.name`),
  get('entities: relation memberOf', `${E}?${filter('relations.memberOf=group:infra/ops')}&order=asc:metadata.name`),
  get('entities: fields', `${E}?${filter('kind=component')}&fields=kind,metadata.name,metadata.namespace,spec.owner&order=asc:metadata.name`),
  get('entities: fields relations', `${E}?${filter('kind=user')}&fields=metadata.name,relations&order=asc:metadata.name`),
  get('entities: fields annotations key', `${E}?${filter('kind=component')}&fields=metadata.name,metadata.annotations.backstage.io/view-url&order=asc:metadata.name`),
  get('entities: order desc', `${E}?${filter('kind=component')}&fields=metadata.name&order=desc:metadata.name`),
  get('entities: order by spec.lifecycle then name', `${E}?${filter('kind=component')}&fields=metadata.name,spec.lifecycle&order=asc:spec.lifecycle&order=asc:metadata.name`),
  get('entities: offset and limit', `${E}?${filter('kind=component')}&fields=metadata.name&order=asc:metadata.name&offset=2&limit=3`),
  get('entities: long value filter', `${E}?${filter(`spec.long=${'x'.repeat(240)}`)}&fields=metadata.name`),
  get('entities: unicode title', `${E}?${filter('metadata.title=Web Shop ☕')}&fields=metadata.name`),
  get('entities: nested location entities', `${E}?${filter('metadata.name=nested-worker')}`),
  get('entities: locations', `${E}?${filter('kind=location')}&order=asc:metadata.name`),
  get('entities: bad filter', `${E}?filter=`),
  get('entities: bad order', `${E}?order=metadata.name`),
  get('entities: bad limit', `${E}?limit=-1`),
  get('entities: bad offset', `${E}?offset=x`),
  get('entities: bracketed fields', `${E}?fields=metadata.tags[0]`),

  // by-query: cursors, totals, full text
  get('by-query: first page', `${Q}?${filter('kind=component')}&limit=3&orderField=metadata.name,asc`),
  get('by-query: desc with fields', `${Q}?${filter('kind=component')}&limit=4&orderField=metadata.name,desc&fields=metadata.name`),
  get('by-query: limit 0 counts', `${Q}?${filter('kind=component')}&limit=0`),
  get('by-query: totalItems exclude', `${Q}?${filter('kind=component')}&limit=2&totalItems=exclude&orderField=metadata.name,asc&fields=metadata.name`),
  get('by-query: totalItems bad', `${Q}?totalItems=sometimes`),
  get('by-query: full text', `${Q}?fullTextFilterTerm=cart&orderField=metadata.name,asc&fields=kind,metadata.name`),
  get('by-query: full text fields', `${Q}?fullTextFilterTerm=SERVICE&fullTextFilterFields=metadata.name&orderField=metadata.name,asc&fields=metadata.name`),
  get('by-query: full text unicode', `${Q}?fullTextFilterTerm=${enc('ünïcödé')}&fields=metadata.name`),
  get('by-query: two order fields', `${Q}?${filter('kind=component')}&orderField=spec.type,asc&orderField=metadata.name,desc&fields=metadata.name,spec.type`),
  get('by-query: order on missing field', `${Q}?${filter('kind=group')}&orderField=spec.profile.displayName,asc&fields=metadata.name`),
  get('by-query: bad orderField', `${Q}?orderField=metadata.name,sideways`),
  get('by-query: bad cursor', `${Q}?cursor=not-a-cursor`),
  get('by-query: bad limit', `${Q}?limit=x`),
  post('by-query: POST body', Q, { filter: { kind: 'api' }, orderBy: [{ field: 'metadata.name', order: 'asc' }], fields: ['metadata.name'] }),

  // by-name, by-uid (unknown), ancestry, refresh
  get('by-name: component', `${E}/by-name/component/default/cart-service`),
  get('by-name: case-insensitive', `${E}/by-name/Component/Default/Cart-Service`),
  get('by-name: other namespace', `${E}/by-name/group/infra/ops`),
  get('by-name: missing', `${E}/by-name/component/default/nope`),
  get('by-name: javascript view-url replaced', `${E}/by-name/component/default/payment-service`),
  get('by-name: tab inside javascript', `${E}/by-name/component/default/web-shop`),
  get('by-name: api with a definition', `${E}/by-name/api/default/payments-api`),
  get('by-name: long values', `${E}/by-name/component/default/long-values`),
  get('by-name: group relations', `${E}/by-name/group/default/platform`),
  get('by-name: user relations', `${E}/by-name/user/default/bob`),
  get('by-uid: unknown', `${E}/by-uid/00000000-0000-0000-0000-000000000000`),
  get('ancestry', `/api/catalog/entities/by-name/component/infra/nested-worker/ancestry`),
  get('ancestry: missing', `/api/catalog/entities/by-name/component/default/nope/ancestry`),

  // by-refs
  post('by-refs', `${E}/by-refs`, { entityRefs: ['component:default/cart-service', 'component:nope', 'Group:infra/Ops', 'api:payments-api'] }),
  post('by-refs: fields', `${E}/by-refs`, { entityRefs: ['component:default/web-shop', 'user:alice'], fields: ['kind', 'metadata.name', 'relations'] }),
  post('by-refs: filter', `${E}/by-refs?${filter('kind=user')}`, { entityRefs: ['component:default/web-shop', 'user:alice'] }),
  post('by-refs: fields in query', `${E}/by-refs?fields=kind`, { entityRefs: ['user:alice'] }),
  post('by-refs: bad body', `${E}/by-refs`, { entityRefs: 'user:alice' }),
  post('by-refs: bad ref', `${E}/by-refs`, { entityRefs: [':::'] }),

  // facets
  get('facets: kind', `/api/catalog/entity-facets?facet=kind`),
  get('facets: several', `/api/catalog/entity-facets?facet=spec.type&facet=metadata.tags&facet=metadata.namespace`),
  get('facets: relations ownedBy', `/api/catalog/entity-facets?facet=relations.ownedBy`),
  get('facets: filtered', `/api/catalog/entity-facets?facet=spec.lifecycle&${filter('kind=component')}`),
  get('facets: labels', `/api/catalog/entity-facets?facet=metadata.labels.tier`),
  get('facets: annotations', `/api/catalog/entity-facets?facet=metadata.annotations.backstage.io/view-url`),
  get('facets: missing facet', `/api/catalog/entity-facets`),

  // locations
  get('locations', `/api/catalog/locations`),
  get('locations: by-entity', `/api/catalog/locations/by-entity/component/default/cart-service`),
  get('locations: by-entity missing', `/api/catalog/locations/by-entity/component/default/nope`),
  get('locations: unknown id', `/api/catalog/locations/00000000-0000-0000-0000-000000000000`),
  post('locations: bad body', `/api/catalog/locations`, { type: 'url' }),
  post('locations: dry run of a file', `/api/catalog/locations?dryRun=true`, { type: 'file', target: '/nonexistent/catalog-info.yaml' }),

  // validate-entity
  post('validate: valid component', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' }, spec: { type: 'service', owner: 'team-a', lifecycle: 'production' } },
  }),
  post('validate: bad name', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'not ok!' }, spec: { type: 'service', owner: 'team-a', lifecycle: 'production' } },
  }),
  post('validate: missing spec', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' } },
  }),
  post('validate: location with target', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Location', metadata: { name: 'loc' }, spec: { target: './a.yaml' } },
  }),
  post('validate: location with targets and type file', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Location', metadata: { name: 'loc' }, spec: { type: 'file', targets: ['./a.yaml'] } },
  }),
  post('validate: template with empty parameters', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 't' }, spec: { type: 'service', parameters: [], steps: [] } },
  }),
  post('validate: annotations as a list', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok', annotations: ['a'] }, spec: { type: 'service', owner: 'team-a', lifecycle: 'production' } },
  }),
  post('validate: file location', '/api/catalog/validate-entity', {
    location: 'file:/tmp/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' }, spec: { type: 'service', owner: 'team-a', lifecycle: 'production' } },
  }),
  post('validate: no location', '/api/catalog/validate-entity', {
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' } },
  }),
  post('validate: unknown kind', '/api/catalog/validate-entity', {
    location: 'url:https://example.com/catalog-info.yaml',
    entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Widget', metadata: { name: 'ok' }, spec: {} },
  }),

  // error paths
  get('unknown route under the API', `/api/catalog/nope`),
  { name: 'method not allowed', method: 'PUT', path: `${E}` },
  post('json as text/plain', `/api/catalog/locations`, '{"type":"url","target":"https://example.com/x.yaml"}', { 'content-type': 'text/plain' }),
  post('malformed json', `${E}/by-refs`, '{"entityRefs": [', { 'content-type': 'application/json' }),
  { name: 'delete unknown uid', method: 'DELETE', path: `${E}/by-uid/00000000-0000-0000-0000-000000000000` },
  post('refresh unknown', `/api/catalog/refresh`, { entityRef: 'component:default/nope' }),
];
