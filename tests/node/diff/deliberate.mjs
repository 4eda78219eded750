// Differences from Backstage's answers that are deliberate, each with its reason (docs/compatibility.md
// says the same to users). Each entry's adjust() takes (ours, theirs) and returns the pair to compare,
// removing exactly the listed difference, so anything else in the same answer still has to match.

/** Every `message` in an answer, masked; Backstage's nested `cause` dropped. */
function maskMessages(answer) {
  const walk = v => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'cause') continue;
        out[k] = k === 'message' && typeof x === 'string' ? '<message>' : walk(x);
      }
      return out;
    }
    return v;
  };
  return { ...answer, body: walk(answer.body) };
}

const messagesOnly = (ours, theirs) => [maskMessages(ours), maskMessages(theirs)];

/**
 * Backstage breaks ties between equal sort values by its random internal entity id (and by-query
 * ignores every order field but the first); Stagedoor orders by every field, then by entity ref.
 * The items must be the same and in the same order of `field`; within a tie, our order is taken.
 */
const tiesInOurOrder = (items, field) => (ours, theirs) => {
  const list = a => (items ? a.body.items : a.body);
  const at = e => field.split('.').reduce((v, k) => v?.[k], e);
  const name = e => JSON.stringify(e);
  const mine = list(ours).map(name);
  const sorted = [...list(theirs)].sort((a, b) => mine.indexOf(name(a)) - mine.indexOf(name(b)));
  if (JSON.stringify(list(theirs).map(at)) !== JSON.stringify(sorted.map(at))) return [ours, theirs];
  const adjusted = structuredClone(theirs);
  if (items) adjusted.body.items = sorted;
  else adjusted.body = sorted;
  return [ours, adjusted];
};

/** What Stagedoor answers instead, exactly. */
const instead = expected => (ours, theirs) => [ours, { ...theirs, ...expected }];

const longValue = `${'x'.repeat(240)}`;

export const DELIBERATE = {
  'entities: long value filter': {
    why: 'values longer than 200 characters are filterable (Backstage keeps them as null and never matches)',
    adjust: instead({ body: [{ metadata: { name: 'long-values' } }] }),
  },
  'entities: order by spec.lifecycle then name': {
    why: 'ties are ordered by the next order field, then by entity ref; Backstage by its random entity id',
    adjust: tiesInOurOrder(false, 'spec.lifecycle'),
  },
  'by-query: two order fields': {
    why: 'every orderField is honoured; Backstage uses only the first and breaks ties by random id',
    adjust: tiesInOurOrder(true, 'spec.type'),
  },
  'by-refs': {
    why: 'refs match case-insensitively, as everywhere else in the API; Backstage by-refs finds only lower-case refs',
    adjust: (ours, theirs) => {
      const adjusted = structuredClone(theirs);
      adjusted.body.items[2] = ours.body.items[2]?.metadata?.name === 'ops' ? ours.body.items[2] : null;
      return [ours, adjusted];
    },
  },
  'by-query: bad cursor': { why: 'the JSON parser error inside the message is our parser’s', adjust: messagesOnly },
  'malformed json': { why: 'the JSON parser error is our parser’s', adjust: messagesOnly },
  'validate: bad name': { why: 'validation messages are our own, naming the field and what was expected', adjust: messagesOnly },
  'validate: missing spec': { why: 'validation messages are our own', adjust: messagesOnly },
  'validate: unknown kind': { why: 'validation messages are our own (they list the kinds Stagedoor knows)', adjust: messagesOnly },
  'validate: location with target': { why: 'the read error is worded by our URL reader', adjust: messagesOnly },
  'validate: template with empty parameters': {
    why: 'the oracle runs without the scaffolder module, so it knows no Template kind; with it, Backstage accepts this template as Stagedoor does',
    adjust: instead({ status: 200, type: '', body: '' }),
  },
  'validate: annotations as a list': {
    why: "Backstage's validate-entity turns a list into an object with keys 0, 1, … before checking, so it calls valid an entity its ingestion rejects; Stagedoor answers as ingestion would",
    adjust: (ours, theirs) => [maskMessages(ours), maskMessages(instead({ status: 400, type: 'application/json', body: { errors: [{ name: 'InputError', message: '' }] } })(ours, theirs)[1])],
  },
  'unknown route under the API': {
    why: "an unknown API path gets Backstage's error envelope rather than an empty 404",
    adjust: instead({
      type: 'application/json',
      body: { error: { name: 'NotFoundError', message: 'No such endpoint: GET /nope' }, request: { method: 'GET', url: '/nope' }, response: { statusCode: 404 } },
    }),
  },
  'method not allowed': {
    why: 'a wrong method on a known path is 405 with the envelope; Backstage answers an empty 404',
    adjust: instead({
      status: 405,
      type: 'application/json',
      body: { error: { name: 'NotFoundError', message: 'Method Not Allowed' }, request: { method: 'PUT', url: '/entities' }, response: { statusCode: 405 } },
    }),
  },
};

export function adjust(name, ours, theirs) {
  const d = DELIBERATE[name];
  return d ? d.adjust(ours, theirs) : [ours, theirs];
}
