-- Scorecards: campaign progress over time: one point per campaign and day (the last evaluation of that day
-- wins), and the day each team finished. `source` is 'recorded' for points the server measured
-- and 'demo' for the generated history of the demo, so pages can label it.
CREATE TABLE campaign_days (
    campaign TEXT   NOT NULL,
    day      TEXT   NOT NULL,
    total    BIGINT NOT NULL,
    failing  BIGINT NOT NULL,
    source   TEXT   NOT NULL,
    PRIMARY KEY (campaign, day)
);

-- A team is finished when none of its entities fail the campaign's checks; a team that fails
-- again loses its row, so `finished_at` is when it last became finished.
CREATE TABLE campaign_teams_finished (
    campaign    TEXT   NOT NULL,
    team        TEXT   NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (campaign, team)
);

-- Facts pushed by other systems (CI, on-call, security scanners) through
-- POST /api/scorecards/v1/facts: one JSON object per entity and source, until it expires.
CREATE TABLE pushed_facts (
    entity_ref TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    facts      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (entity_ref, source)
);

-- Each team's standing in a campaign per day (the day's last evaluation wins), for "most
-- improved this week".
CREATE TABLE campaign_team_days (
    campaign TEXT   NOT NULL,
    team     TEXT   NOT NULL,
    day      TEXT   NOT NULL,
    total    BIGINT NOT NULL,
    failing  BIGINT NOT NULL,
    PRIMARY KEY (campaign, team, day)
);

-- Scorecard results over time. A row per scorecard, entity and day on which the entity's
-- result changed (its level, and each check as 1 passed, 0 failed, e exempt, in the
-- scorecard's order): the result on any day is the latest row on or before it.
CREATE TABLE score_changes (
    scorecard  TEXT   NOT NULL,
    entity_ref TEXT   NOT NULL,
    day        TEXT   NOT NULL,
    level      BIGINT NOT NULL,
    checks     TEXT   NOT NULL,
    PRIMARY KEY (scorecard, entity_ref, day)
);

-- Each scorecard's totals per day, for trends: entities scored, per level (JSON list, lowest
-- first, then none), and per check passing (JSON list, in the scorecard's order).
CREATE TABLE scorecard_days (
    scorecard TEXT   NOT NULL,
    day       TEXT   NOT NULL,
    total     BIGINT NOT NULL,
    levels    TEXT   NOT NULL,
    checks    TEXT   NOT NULL,
    PRIMARY KEY (scorecard, day)
);
