-- The permit registry (SQLite). Kept in step with schema_postgres.sql: the same tables, columns
-- and checks; only identity columns and row-level security differ.
CREATE TABLE IF NOT EXISTS registry_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS employer (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The business identification number (BIN), unique.
    bin TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    -- What the rules need to know (kind, headcount, staff, violations, obligations), JSON.
    facts TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS app_user (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'employer', 'analyst')),
    region TEXT,
    employer_id BIGINT REFERENCES employer (id),
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK ((role = 'officer') = (region IS NOT NULL)),
    CHECK ((role = 'employer') = (employer_id IS NOT NULL))
);

-- Browser sessions and API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE IF NOT EXISTS credential (
    id INTEGER PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    label TEXT NOT NULL,
    -- For a session: the SHA-256 of its CSRF token.
    csrf_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE IF NOT EXISTS quota_cell (
    year BIGINT NOT NULL,
    line TEXT NOT NULL,
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    allocated BIGINT NOT NULL CHECK (allocated >= 0),
    used BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    -- The last wall against over-allocation: no statement can leave a cell over-used.
    CHECK (used <= allocated),
    PRIMARY KEY (year, line, region, category)
);

CREATE TABLE IF NOT EXISTS application (
    id INTEGER PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES employer (id),
    kind TEXT NOT NULL,
    -- The region whose officers decide it (the first of the permit's regions).
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    nationality TEXT NOT NULL,
    workers BIGINT NOT NULL CHECK (workers > 0),
    -- The permit an extension is asked for.
    permit_id BIGINT,
    request TEXT NOT NULL,
    -- Personal data of the worker(s): reading them is audited.
    worker TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'refused', 'exempt', 'withdrawn')),
    submitted_at BIGINT NOT NULL,
    submitted_by BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT,
    decision TEXT,
    grounds TEXT
);
CREATE INDEX IF NOT EXISTS application_by_employer ON application (employer_id, id);
CREATE INDEX IF NOT EXISTS application_by_region ON application (region, status, id);

CREATE TABLE IF NOT EXISTS permit (
    id INTEGER PRIMARY KEY,
    application_id BIGINT NOT NULL UNIQUE REFERENCES application (id),
    employer_id BIGINT NOT NULL REFERENCES employer (id),
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    nationality TEXT NOT NULL,
    workers BIGINT NOT NULL,
    quota_year BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    extensions BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
    -- The quota cells the permit consumed, JSON, so that a revocation can release them.
    consumes TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    closed_at BIGINT,
    closed_reason TEXT
);
CREATE INDEX IF NOT EXISTS permit_by_employer ON permit (employer_id, id);
CREATE INDEX IF NOT EXISTS permit_by_region ON permit (region, status, id);
CREATE INDEX IF NOT EXISTS permit_by_expiry ON permit (status, valid_until);

-- Append-only and hash-chained: each entry's hash covers the previous entry's hash.
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- The chain's head, one row; writers take it last, so appends are serialised.
CREATE TABLE IF NOT EXISTS audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000'
WHERE NOT EXISTS (SELECT 1 FROM audit_head);

-- The head follows every append, in the appending statement itself (one statement fewer while
-- the head is held).
CREATE TRIGGER IF NOT EXISTS audit_head_follows AFTER INSERT ON audit
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The regional vacancy database. A vacancy is never deleted: a change (filled, closed, vanished
-- from its source, recoded) updates its current row and appends its new state, with the date it
-- took effect, to vacancy_state.
CREATE TABLE IF NOT EXISTS vacancy (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    -- The registered employer who posted it, when it was posted here.
    employer_id BIGINT REFERENCES employer (id),
    region TEXT NOT NULL,
    -- The ISCO-08 unit group (4 digits), when known.
    occupation TEXT,
    coding TEXT NOT NULL CHECK (coding IN ('given', 'auto', 'review', 'confirmed', 'uncoded')),
    title TEXT NOT NULL,
    -- Lower-case title, employer and settlement, for searching.
    search_text TEXT NOT NULL,
    posted TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'filled', 'closed')),
    openings BIGINT NOT NULL CHECK (openings > 0),
    -- Another posting of the same vacancy (from another source, or posted twice).
    duplicate_of BIGINT REFERENCES vacancy (id),
    -- The whole vacancy (requirements, wage, dates, settlement, coding), JSON.
    record TEXT NOT NULL,
    state_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- The employer as the repeat finder compares it: the BIN given, and the normalised name ('' for
    -- none; NULL in a vacancy written before these were kept). Added to older registries on opening.
    employer_bin TEXT,
    employer_name TEXT,
    UNIQUE (source, source_id),
    CHECK ((status = 'open') = (ended IS NULL))
);
CREATE INDEX IF NOT EXISTS vacancy_by_region ON vacancy (region, status, id);
CREATE INDEX IF NOT EXISTS vacancy_by_occupation ON vacancy (occupation, region, id);
CREATE INDEX IF NOT EXISTS vacancy_by_coding ON vacancy (coding, region, id);
CREATE INDEX IF NOT EXISTS vacancy_by_employer ON vacancy (employer_id, id);

CREATE TABLE IF NOT EXISTS vacancy_state (
    vacancy_id BIGINT NOT NULL REFERENCES vacancy (id),
    seq BIGINT NOT NULL,
    -- The day the change took effect (a posting's date, the day a snapshot no longer held it).
    as_of TEXT NOT NULL,
    -- When it was recorded, and by whom.
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    change TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (vacancy_id, seq)
);
CREATE TRIGGER IF NOT EXISTS vacancy_state_no_update BEFORE UPDATE ON vacancy_state
BEGIN SELECT RAISE(ABORT, 'a vacancy''s states are append-only'); END;
CREATE TRIGGER IF NOT EXISTS vacancy_state_no_delete BEFORE DELETE ON vacancy_state
BEGIN SELECT RAISE(ABORT, 'a vacancy''s states are append-only'); END;
CREATE TRIGGER IF NOT EXISTS vacancy_no_delete BEFORE DELETE ON vacancy
BEGIN SELECT RAISE(ABORT, 'a vacancy is closed, never deleted'); END;

-- Running sums of the vacancies (repeats left out) by region, ISCO-08 unit group ('' when not
-- coded) and month `YYYY-MM`, changed in the same transaction as the vacancy: the month's
-- postings and their openings (inflow), and the openings, hires, spells and days of the vacancies
-- that ended in it. The labour-demand indicators read these, not every vacancy.
CREATE TABLE IF NOT EXISTS vacancy_month (
    region TEXT NOT NULL,
    occupation TEXT NOT NULL,
    month TEXT NOT NULL,
    vacancies BIGINT NOT NULL CHECK (vacancies >= 0),
    inflow BIGINT NOT NULL CHECK (inflow >= 0),
    outflow BIGINT NOT NULL CHECK (outflow >= 0),
    hires BIGINT NOT NULL CHECK (hires >= 0),
    ended BIGINT NOT NULL CHECK (ended >= 0),
    duration_days BIGINT NOT NULL CHECK (duration_days >= 0),
    PRIMARY KEY (region, occupation, month)
);

-- Job seekers registered at employment centres, as the centres report them: by region,
-- occupation (`_T` all, or an ISCO-08 code of 1 to 4 digits), education (`_T` all) and month.
CREATE TABLE IF NOT EXISTS seeker_count (
    region TEXT NOT NULL,
    occupation TEXT NOT NULL,
    education TEXT NOT NULL,
    month TEXT NOT NULL,
    seekers BIGINT NOT NULL CHECK (seekers >= 0),
    source TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (region, occupation, education, month)
);

-- Adopted shortage lists: the assessment of every occupation in every region by a rule on a
-- date, with the officials' adjustments; the permit decisions' labour-market test reads the
-- newest adopted list.
CREATE TABLE IF NOT EXISTS shortage_list (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    as_of TEXT NOT NULL,
    adopted_at BIGINT NOT NULL,
    adopted_by TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shortage_entry (
    list_id BIGINT NOT NULL REFERENCES shortage_list (id),
    region TEXT NOT NULL,
    occupation TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_demand', 'balanced', 'not_in_demand', 'excluded', 'insufficient_data')),
    seekers BIGINT,
    vacancies BIGINT,
    -- Figures and reasons, JSON.
    detail TEXT NOT NULL,
    PRIMARY KEY (list_id, region, occupation)
);
