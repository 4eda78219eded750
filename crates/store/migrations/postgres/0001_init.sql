-- Locations registered through the API. `seq` gives a stable creation order even when two
-- locations share a millisecond; `id` is what the API exposes.
CREATE TABLE locations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    kind       TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, target)
);

-- Stitched final entities: the catalog's read model, reloaded whole at start-up.
-- `body` is TEXT, not JSONB: the database never looks inside it (filters run on the in-memory
-- index), TEXT keeps the bytes exactly as the catalog wrote them (JSONB would reorder keys and
-- drop duplicates), and it spares a parse on every write of a 120,000-row bulk apply.
CREATE TABLE final_entities (
    entity_ref   TEXT   PRIMARY KEY NOT NULL,
    uid          TEXT   NOT NULL,
    etag         TEXT   NOT NULL,
    hash         TEXT   NOT NULL,
    location_key TEXT,
    body         TEXT   NOT NULL,
    updated_at   BIGINT NOT NULL
);
