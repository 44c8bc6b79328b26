-- Core schema of the FA AI System (tables named by the operations runbook).
-- Extensions (vector, pg_stat_statements) are created by the runner before any migration.

CREATE TABLE batch_runs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id        text NOT NULL UNIQUE,
  trigger         text NOT NULL DEFAULT 'schedule' CHECK (trigger IN ('schedule', 'manual', 'retry')),
  status          text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'stopped')),
  started_at      timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz,
  total_stocks    integer CHECK (total_stocks >= 0),
  successful      integer CHECK (successful >= 0),
  failed          integer CHECK (failed >= 0),
  total_cost_usd  numeric(12, 4) CHECK (total_cost_usd >= 0),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX idx_batch_runs_started_at ON batch_runs (started_at DESC);

-- EDGAR filings and FactSet data the summaries cite (BlueMatrix has its own table).
CREATE TABLE source_documents (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source          text NOT NULL CHECK (source IN ('edgar', 'factset')),
  external_id     text NOT NULL,
  ticker          text NOT NULL,
  document_type   text NOT NULL,
  title           text,
  url             text,
  published_at    timestamptz,
  content         text,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  fetched_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, external_id)
);
CREATE INDEX idx_source_documents_ticker ON source_documents (ticker, published_at DESC);

CREATE TABLE bluematrix_reports (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  report_id       text NOT NULL UNIQUE,
  ticker          text NOT NULL,
  title           text,
  author          text,
  published_at    timestamptz,
  content         text NOT NULL,
  embedding       vector(1536),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_bluematrix_reports_ticker ON bluematrix_reports (ticker, published_at DESC);

CREATE TABLE stock_summaries (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticker              text NOT NULL,
  tier                text NOT NULL CHECK (tier IN ('hook', 'medium', 'expanded')),
  summary             text NOT NULL,
  word_count          integer CHECK (word_count >= 0),
  fact_check_status   text NOT NULL DEFAULT 'pending'
                      CHECK (fact_check_status IN ('pending', 'passed', 'failed', 'skipped')),
  fact_check_details  jsonb,
  model_used          text NOT NULL,
  cost_usd            numeric(10, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  batch_run_id        bigint REFERENCES batch_runs (id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ticker, tier)
);
-- The runbook's "rejected summaries" query filters on status and sorts by updated_at.
CREATE INDEX idx_stock_summaries_fact_check ON stock_summaries (fact_check_status, updated_at DESC);

CREATE TABLE citations (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  summary_id            bigint NOT NULL REFERENCES stock_summaries (id) ON DELETE CASCADE,
  source_document_id    bigint REFERENCES source_documents (id) ON DELETE SET NULL,
  bluematrix_report_id  bigint REFERENCES bluematrix_reports (id) ON DELETE SET NULL,
  quote                 text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (source_document_id IS NOT NULL OR bluematrix_report_id IS NOT NULL)
);
CREATE INDEX idx_citations_summary ON citations (summary_id);

-- One row per stock/tier/step of a batch run; rows older than a year move to the archive.
CREATE TABLE batch_audit (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_run_id    bigint REFERENCES batch_runs (id) ON DELETE SET NULL,
  ticker          text,
  tier            text CHECK (tier IS NULL OR tier IN ('hook', 'medium', 'expanded')),
  event           text NOT NULL,
  status          text NOT NULL,
  model_used      text,
  cost_usd        numeric(10, 6) CHECK (cost_usd >= 0),
  details         jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_batch_audit_created_at ON batch_audit (created_at);

-- Same columns as batch_audit plus when the row was archived; no foreign keys, so
-- archived rows outlive the runs they describe.
CREATE TABLE batch_audit_archive (
  id              bigint PRIMARY KEY,
  batch_run_id    bigint,
  ticker          text,
  tier            text,
  event           text NOT NULL,
  status          text NOT NULL,
  model_used      text,
  cost_usd        numeric(10, 6),
  details         jsonb,
  created_at      timestamptz NOT NULL,
  archived_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_batch_audit_archive_created_at ON batch_audit_archive (created_at);
