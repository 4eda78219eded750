-- Adoption analytics. Raw usage events (the portal's own, and Backstage frontends' through
-- POST /api/analytics/v1/events), kept for a configured number of days (default 400); the
-- daily roll-ups below are kept for good, and are all that measures read.
-- `id` is the event's own id (or one we gave it), so a resent event is stored once.
-- `feature` is what the event counts towards (catalog, docs, search, templates, plugin:<id>, …);
-- `source` is 'server', 'backstage' or 'demo' (generated demo history, labelled as such).
CREATE TABLE analytics_events (
    id         TEXT   PRIMARY KEY NOT NULL,
    ts         BIGINT NOT NULL,
    day        TEXT   NOT NULL,
    user_ref   TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    feature    TEXT   NOT NULL,
    value      REAL,
    attributes TEXT,
    context    TEXT   NOT NULL,
    source     TEXT   NOT NULL
);

-- Expiry deletes by time.
CREATE INDEX analytics_events_ts ON analytics_events (ts);

-- One row per UTC day, user and feature used that day, with how many events: active engineers
-- and use per feature are counted from here, never from the raw events.
CREATE TABLE analytics_user_days (
    day      TEXT   NOT NULL,
    user_ref TEXT   NOT NULL,
    feature  TEXT   NOT NULL,
    events   BIGINT NOT NULL,
    PRIMARY KEY (day, user_ref, feature)
);

-- Searches per UTC day and user: rank 0 counts searches run, rank r > 0 results opened at
-- rank r (ranks past 100 count as 100). Search success and the median opened rank come
-- from here.
CREATE TABLE analytics_search_days (
    day      TEXT   NOT NULL,
    user_ref TEXT   NOT NULL,
    rank     BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (day, user_ref, rank)
);

-- Small facts about the data itself, e.g. the range of generated demo history ('demo_from',
-- 'demo_to'), so pages can label it.
CREATE TABLE analytics_notes (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
