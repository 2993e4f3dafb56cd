-- The koshi data bank. One observation row per (series, period, source, definition, release):
-- figures from different sources and definitions live side by side, and every release keeps
-- its own figures, so `as_of` can answer what was known on a date.
-- meta keys: schema_version, structure_fingerprint, bundle_fingerprint, bundle_completed_at.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS dataflow (
  id TEXT PRIMARY KEY,
  name_en TEXT NOT NULL, name_ru TEXT NOT NULL, name_kk TEXT NOT NULL,
  description TEXT NOT NULL,
  dimensions TEXT NOT NULL            -- dimension ids in key order, '.'-joined
);

CREATE TABLE IF NOT EXISTS source (
  id TEXT PRIMARY KEY,
  name_en TEXT NOT NULL, name_ru TEXT NOT NULL, name_kk TEXT NOT NULL,
  kind TEXT NOT NULL, url TEXT, file TEXT
);

CREATE TABLE IF NOT EXISTS definition (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS release (
  id INTEGER PRIMARY KEY,
  dataflow_id TEXT NOT NULL REFERENCES dataflow(id),
  source_id TEXT NOT NULL REFERENCES source(id),
  label TEXT NOT NULL,
  release_date TEXT NOT NULL,         -- the vintage as its source states it: YYYY-MM-DD (never invented)
  revision INTEGER NOT NULL DEFAULT 1, -- 1, 2, 3 … within (dataflow, source, label): later revisions supersede
  ingested_at TEXT NOT NULL,          -- UTC, YYYY-MM-DD HH:MM:SS.SSS
  origin TEXT NOT NULL,               -- file (and mapping) the figures came from
  note TEXT,
  content_hash TEXT NOT NULL,
  observations INTEGER NOT NULL
);
DROP INDEX IF EXISTS release_stream;
CREATE INDEX IF NOT EXISTS release_revision ON release(dataflow_id, source_id, label, revision);

CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  dataflow_id TEXT NOT NULL REFERENCES dataflow(id),
  series_key TEXT NOT NULL,           -- codes in dimension order, '.'-joined
  UNIQUE (dataflow_id, series_key)
);

CREATE TABLE IF NOT EXISTS observation (
  series_id INTEGER NOT NULL REFERENCES series(id),
  time_period TEXT NOT NULL,
  source_id TEXT NOT NULL,
  definition_id INTEGER NOT NULL REFERENCES definition(id),
  release_id INTEGER NOT NULL REFERENCES release(id),
  value REAL,                          -- in unit × 10^unit_mult; NULL when missing
  printed TEXT,                        -- as the source printed it
  unit TEXT NOT NULL,
  unit_mult INTEGER NOT NULL,
  status TEXT NOT NULL,                -- SDMX OBS_STATUS
  citation TEXT,
  note TEXT,
  defects TEXT,                        -- '|'-joined defect codes
  PRIMARY KEY (series_id, time_period, source_id, definition_id, release_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS observation_release ON observation(release_id);

CREATE TABLE IF NOT EXISTS defect (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES release(id),
  series_id INTEGER REFERENCES series(id),
  time_period TEXT,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  origin TEXT NOT NULL                 -- 'declared' by the source file, or 'validation'
);
CREATE INDEX IF NOT EXISTS defect_release ON defect(release_id);

-- Sources and dataflows declared by users (`koshi source add`, `koshi dataflow add`, a
-- mapping's [[source]]), as JSON in the shape of data/structure/*.toml; they join the
-- catalogue each time the bank opens, checked as the bundled ones are.
CREATE TABLE IF NOT EXISTS declaration (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('source', 'dataflow')),
  item_id TEXT NOT NULL,
  definition TEXT NOT NULL,
  origin TEXT NOT NULL,               -- where it was declared: command or mapping file
  declared_at TEXT NOT NULL,
  UNIQUE (kind, item_id)
);

-- Answers that are slow to work out (the defect report, the models' fits, what the latest releases
-- changed), kept for the state of the bank and the program that computed them (`stamp`), so that
-- a server started again answers at once. A cache only: any row may be deleted at any time.
CREATE TABLE IF NOT EXISTS kept_answer (
  kind TEXT NOT NULL,
  request TEXT NOT NULL,
  stamp TEXT NOT NULL,
  body BLOB NOT NULL,
  kept_at TEXT NOT NULL,
  PRIMARY KEY (kind, request)
);
