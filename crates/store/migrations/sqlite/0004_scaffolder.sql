-- Scaffolder: every task run from a template (who, which template and version, outcome,
-- duration), and its events (the live log and the completion), in order per task.
-- Secrets are never stored: they live in memory for the run only.
CREATE TABLE scaffolder_tasks (
    id               TEXT   PRIMARY KEY NOT NULL,
    spec             TEXT   NOT NULL,
    status           TEXT   NOT NULL,
    template_ref     TEXT   NOT NULL,
    template_version TEXT,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    last_heartbeat_at BIGINT NOT NULL,
    finished_at      BIGINT,
    output           TEXT
);
CREATE INDEX scaffolder_tasks_by_time ON scaffolder_tasks (created_at);
CREATE INDEX scaffolder_tasks_by_template ON scaffolder_tasks (template_ref);

CREATE TABLE scaffolder_task_events (
    task_id    TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    event_type TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq)
);
