//! Scaffolder tasks and their events: one row per run of a template (who ran which template
//! version, its status, when it started and finished, its output) and its log and completion
//! events in order. Event numbers are per task, given by the one runner that writes them.

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: String,
    /// The task spec (steps, output, parameters, user, templateInfo) as JSON text.
    pub spec: String,
    /// `open`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Lower-cased `template:namespace/name`.
    pub template_ref: String,
    pub template_version: Option<String>,
    /// Lower-cased user ref, when signed in.
    pub created_by: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    pub last_heartbeat_at: i64,
    pub finished_at: Option<i64>,
    /// The rendered template output as JSON text, once completed.
    pub output: Option<String>,
}

/// One event of a task: `log`, `completion`, `cancelled` or `recovered`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEventRow {
    pub task_id: String,
    pub seq: i64,
    pub event_type: String,
    /// The event body as JSON text.
    pub body: String,
    pub created_at: i64,
}

const TASK_COLUMNS: &str = "id, spec, status, template_ref, template_version, created_by, \
    created_at, last_heartbeat_at, finished_at, output";

type TaskTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

fn task(t: TaskTuple) -> TaskRow {
    TaskRow {
        id: t.0,
        spec: t.1,
        status: t.2,
        template_ref: t.3,
        template_version: t.4,
        created_by: t.5,
        created_at: t.6,
        last_heartbeat_at: t.7,
        finished_at: t.8,
        output: t.9,
    }
}

impl Db {
    pub async fn insert_task(&self, t: &TaskRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO scaffolder_tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(&t.id)
            .bind(&t.spec)
            .bind(&t.status)
            .bind(&t.template_ref)
            .bind(&t.template_version)
            .bind(&t.created_by)
            .bind(t.created_at)
            .bind(t.last_heartbeat_at)
            .bind(t.finished_at)
            .bind(&t.output)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Sets a task's status (and, when it ends, when and with what output). A task that has
    /// already ended keeps its final status: answers whether the row changed.
    pub async fn set_task_status(
        &self,
        id: &str,
        status: &str,
        now: i64,
        finished: bool,
        output: Option<&str>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE scaffolder_tasks
            SET status = $2, last_heartbeat_at = $3,
                finished_at = CASE WHEN $4 THEN $3 ELSE finished_at END,
                output = COALESCE($5, output)
            WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')";
        let done = on_pool!(self, pool => sqlx::query(SQL)
            .bind(id)
            .bind(status)
            .bind(now)
            .bind(finished)
            .bind(output)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Opens an ended task again for a retry (dropping its completion event); false if it is
    /// still open or running.
    pub async fn reopen_task(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE scaffolder_tasks
            SET status = 'open', last_heartbeat_at = $2, finished_at = NULL, output = NULL
            WHERE id = $1 AND status IN ('completed', 'failed', 'cancelled')";
        let n = on_pool!(self, pool => sqlx::query(SQL)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if n > 0 {
            // As Backstage: the earlier completion goes, so the task is not read as finished.
            const DELETE: &str = "DELETE FROM scaffolder_task_events WHERE task_id = $1 AND event_type = 'completion'";
            on_pool!(self, pool => sqlx::query(DELETE).bind(id).execute(pool).await.map(|_| ()))?;
        }
        Ok(n > 0)
    }

    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM scaffolder_tasks WHERE id = $1");
        let row: Option<TaskTuple> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row.map(task))
    }

    /// Tasks newest first, optionally only one user's or one status, and the total matching.
    pub async fn list_tasks(
        &self,
        created_by: Option<&str>,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TaskRow>, i64), StoreError> {
        let filter = "($1 IS NULL OR created_by = $1) AND ($2 IS NULL OR status = $2)";
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM scaffolder_tasks WHERE {filter}
             ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
        );
        let rows: Vec<TaskTuple> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(created_by)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?;
        let count_sql = format!("SELECT COUNT(*) FROM scaffolder_tasks WHERE {filter}");
        let (total,): (i64,) = on_pool!(self, pool => sqlx::query_as(&count_sql)
            .bind(created_by)
            .bind(status)
            .fetch_one(pool)
            .await)?;
        Ok((rows.into_iter().map(task).collect(), total))
    }

    /// Tasks of one template, newest first (its usage).
    pub async fn tasks_of_template(&self, template_ref: &str) -> Result<Vec<TaskRow>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM scaffolder_tasks WHERE template_ref = $1 ORDER BY created_at DESC, id"
        );
        let rows: Vec<TaskTuple> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(template_ref)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(task).collect())
    }

    /// Runs per template: `(template_ref, runs, completed)`, for the templates' usage.
    pub async fn task_counts(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        const SQL: &str = "SELECT template_ref, COUNT(*),
                SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END)
            FROM scaffolder_tasks GROUP BY template_ref ORDER BY template_ref";
        let rows: Vec<(String, i64, Option<i64>)> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(r, n, done)| (r, n, done.unwrap_or(0)))
            .collect())
    }

    pub async fn append_task_events(&self, events: &[TaskEventRow]) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO scaffolder_task_events (task_id, seq, event_type, body, created_at)
            VALUES ($1, $2, $3, $4, $5)";
        in_transaction!(self, tx => for e in events {
            sqlx::query(SQL)
                .bind(&e.task_id)
                .bind(e.seq)
                .bind(&e.event_type)
                .bind(&e.body)
                .bind(e.created_at)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// A task's events after `after` (exclusive), in order.
    pub async fn task_events(
        &self,
        task_id: &str,
        after: Option<i64>,
    ) -> Result<Vec<TaskEventRow>, StoreError> {
        const SQL: &str = "SELECT task_id, seq, event_type, body, created_at
            FROM scaffolder_task_events WHERE task_id = $1 AND seq > $2 ORDER BY seq";
        let rows: Vec<(String, i64, String, String, i64)> = on_pool!(self, pool => sqlx::query_as(SQL)
            .bind(task_id)
            .bind(after.unwrap_or(-1))
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(task_id, seq, event_type, body, created_at)| TaskEventRow {
                    task_id,
                    seq,
                    event_type,
                    body,
                    created_at,
                },
            )
            .collect())
    }

    /// Tasks a stopped server left `open` or `processing`: marked failed (their secrets are
    /// gone, so they cannot resume); answers their ids.
    pub async fn fail_interrupted_tasks(&self, now: i64) -> Result<Vec<String>, StoreError> {
        const SELECT: &str =
            "SELECT id FROM scaffolder_tasks WHERE status IN ('open', 'processing') ORDER BY id";
        let ids: Vec<(String,)> =
            on_pool!(self, pool => sqlx::query_as(SELECT).fetch_all(pool).await)?;
        for (id,) in &ids {
            self.set_task_status(id, "failed", now, true, None).await?;
        }
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}
