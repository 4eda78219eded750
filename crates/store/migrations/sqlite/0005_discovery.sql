-- Discovery: every repository found under a configured source, with its inventory record as
-- JSON (so an unchanged repository is not read again after a restart), and since when it is
-- missing (NULL while present: a repository that disappears is kept and reported, not dropped).
CREATE TABLE discovered_repositories (
    path          TEXT   PRIMARY KEY NOT NULL,
    head          TEXT   NOT NULL,
    record        TEXT   NOT NULL,
    seen_at       BIGINT NOT NULL,
    missing_since BIGINT
);

-- Catalog completeness per day: repositories found and cataloged per scope ('org', or a group's
-- ref, counting its sub-groups); the last measurement of a day wins.
CREATE TABLE completeness_days (
    scope     TEXT   NOT NULL,
    day       TEXT   NOT NULL,
    found     BIGINT NOT NULL,
    cataloged BIGINT NOT NULL,
    PRIMARY KEY (scope, day)
);
