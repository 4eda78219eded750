-- Locations registered through the API. `seq` gives a stable creation order even when two
-- locations share a millisecond; `id` is what the API exposes.
CREATE TABLE locations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, target)
);

-- Stitched final entities: the catalog's read model, reloaded whole at start-up.
CREATE TABLE final_entities (
    entity_ref   TEXT    PRIMARY KEY NOT NULL,
    uid          TEXT    NOT NULL,
    etag         TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    location_key TEXT,
    body         TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);
