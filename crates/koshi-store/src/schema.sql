-- The koshi data bank. One observation row per (series, period, source, definition, release):
-- figures from different sources and definitions live side by side, and every release keeps
-- its own figures, so `as_of` can answer what was known on a date.
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
  release_date TEXT NOT NULL,         -- the vintage: YYYY-MM-DD
  ingested_at TEXT NOT NULL,
  origin TEXT NOT NULL,               -- file (and mapping) the figures came from
  note TEXT,
  content_hash TEXT NOT NULL,
  observations INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS release_stream ON release(dataflow_id, source_id, label);

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
