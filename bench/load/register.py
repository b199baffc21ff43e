"""People and the register: the plan of who is who, people, consent, register entries with
their rating histories, admissions, contacts, needs, C(E)TR exceptions and the access log."""

# Every statement here is assembled from this package's constants and integers (the seed,
# salts and sizes); every value from outside goes as a query parameter.
# ruff: noqa: S608

from bench.load.sql import (
    NEEDS,
    RISK_FACTORS,
    Loader,
    birthday,
    cadence,
    local_time,
    nhs_number,
    pick,
    sequence,
)


def plan(ld: Loader) -> list[str]:
    """bench_people: one row per person with what the later statements need to agree on."""
    R = ld.r
    today = "%(today)s::date"
    return [
        "DROP TABLE IF EXISTS bench_people",
        f"""
        CREATE TEMP TABLE bench_people AS
        WITH draw AS (
            SELECT n, {sequence("dsr_person")} AS id,
                {R("n", 1)} AS r_la, {R("n", 2)} AS r_band, {R("n", 3)} AS r_age,
                {R("n", 4)} AS r_sex, {R("n", 5)} AS r_eth, {R("n", 6)} AS r_diag,
                {R("n", 7)} AS r_dstat, {R("n", 8)} AS r_given, {R("n", 9)} AS r_family,
                {R("n", 10)} AS r_kind, {R("n", 11)} AS r_rating, {R("n", 12)} AS r_dis,
                {R("n", 13)} AS r_k, {R("n", 14)} AS r_open, {R("n", 15)} AS r_close,
                {R("n", 16)} AS r_lag, {R("n", 17)} AS r_renew, {R("n", 18)} AS r_stale,
                {R("n", 19)} AS r_hosp, {R("n", 20)} AS r_reason, {R("n", 21)} AS r1,
                {R("n", 22)} AS r2, {R("n", 23)} AS r3, {R("n", 24)} AS r4, {R("n", 25)} AS r5,
                {R("n", 26)} AS r6, {R("n", 27)} AS r7, {R("n", 28)} AS r8
            FROM generate_series(1, %(people)s) AS n
        ), shaped AS (
            SELECT d.*, n = 1 AS is_long,
                least(%(areas)s, 1 + floor(%(areas)s * power(r_la, 1.15))::int) AS la_idx,
                CASE WHEN n = 1 THEN 30 * 365 + 100
                     WHEN r_band < 0.15 THEN 180 + floor(r_age * (12 * 365 - 180))::int
                     WHEN r_band < 0.40 THEN 12 * 365 + floor(r_age * 6 * 365)::int
                     WHEN r_band < 0.65 THEN 18 * 365 + floor(r_age * 8 * 365)::int
                     ELSE 26 * 365 + floor(r_age * 45 * 365)::int END AS age_days,
                CASE WHEN n = 1 OR r_kind < 0.40 THEN 'open'
                     WHEN r_kind < 0.48 THEN 'closed' ELSE 'none' END AS kind,
                CASE WHEN n = 1 THEN 'AMBER' WHEN r_rating < 0.05 THEN 'RED'
                     WHEN r_rating < 0.25 THEN 'AMBER' WHEN r_rating < 0.85 THEN 'GREEN'
                     ELSE 'BLUE' END AS final_rating
            FROM draw d
        ), dated AS (
            SELECT s.*, {today} - age_days AS dob,
                CASE WHEN is_long THEN {today} - 2920
                     ELSE greatest({today} - (20 + floor(r_open * 1400))::int,
                                   {today} - age_days + 60) END AS opened_on,
                kind = 'open' AND final_rating = 'RED' AND r_dis < 0.3 AND NOT is_long AS red_dis,
                NOT is_long AND r_stale < 0.10 AS stale,
                {cadence("final_rating")} AS cadence,
                400000000 + n * 7 AS nine
            FROM shaped s
        ), timed AS (
            SELECT t.*,
                CASE WHEN kind = 'closed'
                     THEN opened_on + floor(r_close * ({today} - opened_on))::int END AS closed_on,
                CASE WHEN red_dis
                     THEN greatest(opened_on, {today} - floor(r_lag * 40)::int) END
                     AS discharged_on,
                CASE WHEN kind = 'open' AND final_rating <> 'BLUE' AND NOT red_dis
                     THEN greatest(opened_on, {today} - floor(CASE WHEN stale
                          THEN cadence * 1.2 + r_lag * 60 ELSE r_lag * cadence * 1.1 END)::int)
                     END AS last_review,
                CASE WHEN is_long THEN 400
                     WHEN kind = 'closed' THEN 1 + floor(r_k * 3)::int
                     WHEN red_dis THEN greatest(1 + floor(r_k * 8)::int, 3)
                     WHEN kind = 'open' AND final_rating = 'BLUE'
                          THEN greatest(1 + floor(r_k * 8)::int, 2)
                     ELSE 1 + floor(r_k * 8)::int END AS k,
                kind = 'open' AND NOT is_long AND opened_on < {today} - 400 AND r_renew < 0.7
                     AS renewed,
                CASE WHEN kind = 'closed' THEN CASE
                     WHEN r_reason < 0.60 THEN 'risk_reduced'
                     WHEN r_reason < 0.75 THEN 'moved_area'
                     WHEN r_reason < 0.85 THEN 'aged_out'
                     WHEN r_reason < 0.95 THEN 'consent_withdrawn'
                     ELSE 'died' END END AS closure_reason
            FROM dated t
        ), admitted AS (
            SELECT a.*,
                CASE WHEN kind = 'open' AND final_rating = 'BLUE'
                     THEN opened_on + floor(r_lag * ({today} - opened_on))::int
                     WHEN red_dis
                     THEN opened_on + floor((discharged_on - opened_on) * 0.75)::int END
                     AS admitted_on,
                CASE WHEN renewed THEN (opened_on + interval '1 year')::date
                     - floor(r_renew * 30)::int END AS renewed_on
            FROM timed a
        )
        SELECT *,
            CASE WHEN kind = 'closed' THEN closed_on
                 WHEN admitted_on IS NOT NULL THEN admitted_on ELSE last_review END AS span_end,
            CASE WHEN red_dis THEN k - 1 ELSE k END AS m,
            {nhs_number("nine")} AS nhs_number,
            age_days < 25 * 365 AND r6 < 0.55 AS has_ehcp,
            (%(area_ids)s::bigint[])[la_idx] AS la_id
        FROM admitted
        """,
        "CREATE UNIQUE INDEX ON bench_people (n)",
        "ANALYZE bench_people",
    ]


def people(ld: Loader) -> list[str]:
    R = ld.r
    age = "extract(year from age(%(today)s::date, p.dob))::int"
    return [
        f"""
        INSERT INTO dsr_person (id, created_at, updated_at, nhs_number, given_name, family_name,
            date_of_birth, sex, ethnicity, address, postcode, gp_practice_code, gp_practice_name,
            diagnosis, diagnosis_status, co_occurring, communication_needs, accessible_formats,
            interpreter_language, has_ehcp, education_setting, placement_type, out_of_area,
            at_objection, keyworker_referred_on, ehcp_local_authority_id, local_authority_id,
            responsible_icb_id)
        SELECT p.id, c.created, c.created, p.nhs_number,
            {pick("given", "p.r_given")}, {pick("family", "p.r_family")}, p.dob,
            CASE WHEN p.r_sex < 0.56 THEN '1' WHEN p.r_sex < 0.96 THEN '2'
                 WHEN p.r_sex < 0.98 THEN 'X' ELSE '9' END,
            {pick("ethnicities", "p.r_eth")},
            (1 + mod(p.n, 180))::text || ' ' || {pick("streets", "p.r1")} || E'\\n'
                || (%(area_names)s::text[])[p.la_idx],
            (%(prefixes)s::text[])[p.la_idx] || (1 + mod(p.n, 30))::text || ' '
                || (1 + mod(p.n / 30, 9))::text || chr(65 + mod(p.n / 270, 26)::int)
                || chr(65 + mod(p.n / 7020, 26)::int),
            'D8' || lpad(mod(p.n, 400)::text, 4, '0'),
            'The ' || {pick("streets", "p.r2")} || ' Surgery',
            CASE WHEN p.r_diag < 0.40 THEN 'learning_disability' WHEN p.r_diag < 0.75 THEN 'autism'
                 ELSE 'both' END,
            CASE WHEN p.r_dstat < 0.70 THEN 'confirmed'
                 WHEN p.r_dstat < 0.85 THEN 'clinically_understood'
                 ELSE 'awaiting_assessment' END,
            CASE WHEN p.r3 < 0.55 THEN '[]'::jsonb WHEN p.r3 < 0.70 THEN '["mental_health"]'
                 WHEN p.r3 < 0.80 THEN '["adhd"]'
                 WHEN p.r3 < 0.88 THEN '["epilepsy", "mental_health"]'
                 WHEN p.r3 < 0.94 THEN '["physical_health"]'
                 ELSE '["adhd", "substance_use"]' END,
            CASE WHEN p.r4 > 0.8 THEN 'Uses Makaton and a few words; give time to answer.'
                 ELSE '' END,
            CASE WHEN p.r4 < 0.12 THEN '["easy_read"]'::jsonb
                 WHEN p.r4 < 0.15 THEN '["large_print"]'
                 WHEN p.r4 < 0.17 THEN '["bsl"]' ELSE '[]' END,
            CASE WHEN p.r5 > 0.98 THEN 'Polish' WHEN p.r5 > 0.96 THEN 'Urdu' ELSE '' END,
            p.has_ehcp,
            CASE WHEN p.age_days < 19 * 365 THEN {pick("schools", "p.r7")} ELSE '' END,
            CASE WHEN p.admitted_on IS NOT NULL AND p.discharged_on IS NULL THEN 'hospital'
                 WHEN {age} < 18 THEN CASE WHEN p.r8 < 0.65 THEN 'family_home'
                      WHEN p.r8 < 0.78 THEN 'foster_care'
                      WHEN p.r8 < 0.88 THEN 'residential_school_38'
                      WHEN p.r8 < 0.95 THEN 'residential_school_52' ELSE 'residential_care' END
                 ELSE CASE WHEN p.r8 < 0.40 THEN 'family_home'
                      WHEN p.r8 < 0.75 THEN 'supported_living'
                      WHEN p.r8 < 0.92 THEN 'residential_care' ELSE 'other' END END,
            p.r5 < 0.08, p.r6 > 0.95,
            CASE WHEN p.kind <> 'none' AND p.age_days < 26 * 365 AND p.r7 < 0.5
                 THEN least(p.opened_on + 7, %(today)s::date) END,
            CASE WHEN p.has_ehcp THEN p.la_id END,
            p.la_id, %(icb)s
        FROM bench_people p
        CROSS JOIN LATERAL (SELECT {
            local_time(
                "CASE WHEN p.kind <> 'none' THEN p.opened_on - 30"
                f" ELSE %(today)s::date - floor({R('p.n', 29)} * 900)::int END",
                "09:00",
            )
        } AS created) c
        """,
        "ANALYZE dsr_person",
    ]


def consent(ld: Loader) -> list[str]:
    R = ld.r
    return [
        "DROP TABLE IF EXISTS bench_consents",
        f"""
        CREATE TEMP TABLE bench_consents AS
        SELECT c.*, extract(year from age(c.given_on, c.dob))::int AS age,
            {R("c.n * 4 + c.seq", 30)} AS r_basis
        FROM (
            SELECT p.n, p.id AS person_id, p.dob, v.seq, v.given_on, v.ended_on, v.end_reason,
                {sequence("dsr_consent")} AS id
            FROM bench_people p
            CROSS JOIN LATERAL (VALUES
                (1, p.opened_on,
                 CASE WHEN p.renewed THEN p.renewed_on
                      WHEN p.closure_reason = 'consent_withdrawn' THEN p.closed_on END,
                 CASE WHEN p.renewed THEN 'renewed'
                      WHEN p.closure_reason = 'consent_withdrawn' THEN 'withdrawn' ELSE '' END),
                (2, p.renewed_on, NULL::date, '')
            ) AS v (seq, given_on, ended_on, end_reason)
            WHERE p.kind <> 'none' AND (v.seq = 1 OR p.renewed)
        ) c
        """,
        "ALTER TABLE bench_consents ADD COLUMN basis text",
        """
        UPDATE bench_consents SET basis = CASE
            WHEN age < 16 THEN CASE WHEN age >= 12 AND r_basis < 0.2 THEN 'gillick'
                 ELSE 'parental_responsibility' END
            WHEN age < 18 THEN CASE WHEN r_basis < 0.5 THEN 'own_consent'
                 WHEN r_basis < 0.75 THEN 'best_interests' ELSE 'parental_responsibility' END
            ELSE CASE WHEN r_basis < 0.75 THEN 'own_consent' ELSE 'best_interests' END END
        """,
        "ANALYZE bench_consents",
        f"""
        INSERT INTO dsr_consent (id, created_at, updated_at, basis, given_on, given_by,
            decision_maker, capacity_assessed_on, notes, review_due, ended_on, end_reason,
            ended_by_id, recorded_by_id, person_id)
        SELECT c.id, {local_time("c.given_on", "10:00")}, {local_time("c.given_on", "10:00")},
            c.basis, c.given_on,
            CASE WHEN c.basis = 'parental_responsibility' THEN 'Parent with parental responsibility'
                 ELSE '' END,
            CASE WHEN c.basis = 'best_interests' THEN 'Dr R Osei, consultant psychiatrist'
                 ELSE '' END,
            CASE WHEN c.basis = 'best_interests' THEN c.given_on END,
            '',
            least((c.given_on + interval '1 year')::date,
                  CASE WHEN c.age < 16 THEN {birthday("c.dob", 16)} END,
                  CASE WHEN c.basis = 'parental_responsibility' THEN {birthday("c.dob", 18)} END),
            c.ended_on, c.end_reason,
            CASE WHEN c.ended_on IS NOT NULL THEN {ld.staff(R("c.n", 31))} END,
            {ld.staff(R("c.n", 32))}, c.person_id
        FROM bench_consents c
        """,
    ]


def entries_and_ratings(ld: Loader) -> list[str]:
    """Register entries and their rating histories: k rating rows per entry, spread evenly from
    the day the entry opened to the last review (or the admission), the last one the current
    rating; Blue only while admitted, Red after a discharge."""
    R = ld.r
    row = "p.n::bigint * 1000 + j"
    mid = (
        f"CASE WHEN {R(row, 33)} < 0.15 THEN 'RED' WHEN {R(row, 33)} < 0.55 THEN 'AMBER'"
        " ELSE 'GREEN' END"
    )
    factors = len(RISK_FACTORS)
    return [
        "DROP TABLE IF EXISTS bench_entries",
        f"""
        CREATE TEMP TABLE bench_entries AS
        SELECT p.n, {sequence("dsr_registerentry")} AS id FROM bench_people p WHERE p.kind <> 'none'
        """,
        "CREATE UNIQUE INDEX ON bench_entries (n)",
        "DROP TABLE IF EXISTS bench_ratings",
        f"""
        CREATE TEMP TABLE bench_ratings AS
        SELECT x.*, {sequence("dsr_rating")} AS id,
            coalesce(lag(x.rating) OVER (PARTITION BY x.n ORDER BY x.j), '') AS previous_rating
        FROM (
            SELECT p.n, p.id AS person_id, p.la_idx, e.id AS entry_id, j, p.k, p.red_dis,
                p.is_long, p.kind, p.r_hosp,
                CASE WHEN p.red_dis AND j = p.k THEN p.discharged_on
                     WHEN p.m <= 1 THEN p.opened_on
                     ELSE p.opened_on + floor((j - 1) * (p.span_end - p.opened_on)::numeric
                          / (p.m - 1))::int END AS eff,
                CASE WHEN p.kind = 'open' AND j = p.k THEN p.final_rating
                     WHEN p.red_dis AND j = p.k - 1 THEN 'BLUE' ELSE {mid} END AS rating,
                {R(row, 34)} AS q1, {R(row, 35)} AS q2, {R(row, 36)} AS q3
            FROM bench_people p JOIN bench_entries e USING (n)
            CROSS JOIN LATERAL generate_series(1, p.k) AS j
        ) x
        """,
        "CREATE INDEX ON bench_ratings (n, j)",
        "ANALYZE bench_entries",
        "ANALYZE bench_ratings",
        f"""
        INSERT INTO dsr_registerentry (id, created_at, updated_at, status, opened_on, rating,
            rating_since, rating_reviewed_on, rating_review_due, red_until, closed_on,
            closure_reason, closure_note, closed_by_id, consent_id, opened_by_id, person_id)
        SELECT e.id, {local_time("p.opened_on", "09:00")},
            {local_time("coalesce(p.closed_on, a.reviewed)", "17:00")},
            CASE WHEN p.kind = 'open' THEN 'open' ELSE 'closed' END, p.opened_on, a.rating,
            a.since, a.reviewed,
            a.reviewed + {cadence("a.rating")},
            CASE WHEN p.red_dis THEN p.discharged_on + %(red_days)s END,
            p.closed_on, coalesce(p.closure_reason, ''),
            CASE WHEN p.kind = 'closed' THEN 'Closed at the multi-agency review.' ELSE '' END,
            CASE WHEN p.kind = 'closed' THEN {ld.staff(R("p.n", 37))} END,
            c.id, {ld.staff(R("p.n", 38))}, p.id
        FROM bench_people p JOIN bench_entries e USING (n)
        JOIN (
            SELECT n, max(eff) FILTER (WHERE rating <> previous_rating) AS since,
                max(eff) AS reviewed, (array_agg(rating ORDER BY j DESC))[1] AS rating
            FROM bench_ratings GROUP BY n
        ) a USING (n)
        JOIN bench_consents c ON c.n = p.n AND c.seq = CASE WHEN p.renewed THEN 2 ELSE 1 END
        """,
        f"""
        INSERT INTO dsr_rating (id, rating, previous_rating, effective_from, rationale,
            risk_factors, risk_notes, set_at, set_by_id, entry_id, meeting_id)
        SELECT b.id, b.rating, b.previous_rating, b.eff,
            CASE WHEN b.rating = 'BLUE' THEN 'Admitted to '
                      || {pick("hospital_names", "b.r_hosp")} || ' on '
                      || to_char(b.eff, 'FMDD FMMonth YYYY') || '.'
                 WHEN b.red_dis AND b.j = b.k THEN 'Discharged from '
                      || {pick("hospital_names", "b.r_hosp")} || ' on '
                      || to_char(b.eff, 'FMDD FMMonth YYYY') || ': red until at least '
                      || to_char(b.eff + %(red_days)s, 'FMDD FMMonth YYYY') || ' after discharge.'
                 WHEN b.rating = b.previous_rating
                      THEN 'Reviewed at the multi-agency meeting: rating confirmed.'
                 ELSE {pick("notes", "b.q1")} END,
            CASE WHEN b.rating = 'BLUE' THEN '[]'::jsonb
                 WHEN b.red_dis AND b.j = b.k THEN '["recent_discharge"]'::jsonb
                 ELSE jsonb_build_array({pick("factors", "b.q2")},
                      (%(factors)s::text[])[1 + mod(floor(b.q2 * {factors})::int + 1
                      + floor(b.q3 * {factors - 1})::int, {factors})]) END,
            '', {local_time("b.eff", "09:00")} + b.j * interval '1 minute',
            {ld.staff("b.q3")}, b.entry_id, NULL
        FROM bench_ratings b
        """,
        "ANALYZE dsr_registerentry, dsr_rating",
    ]


def admissions_contacts_needs(ld: Loader) -> list[str]:
    """Admissions (open for Blue people, ended for those discharged and now Red), contacts,
    unmet needs and C(E)TR exceptions."""
    R = ld.r
    child_at_admission = "extract(year from age(p.admitted_on, p.dob)) < 18"
    needs = len(NEEDS)
    return [
        "DROP TABLE IF EXISTS bench_admissions",
        f"""
        CREATE TEMP TABLE bench_admissions AS
        SELECT p.n, p.id AS person_id, p.la_idx, p.dob, p.admitted_on, p.discharged_on, p.r_hosp,
            {sequence("dsr_admission")} AS id,
            {child_at_admission} AS child, {R("p.n", 40)} AS q1, {R("p.n", 41)} AS q2,
            {R("p.n", 42)} AS q3, {R("p.n", 43)} AS q4, p.r5 < 0.08 AS out_of_area
        FROM bench_people p WHERE p.admitted_on IS NOT NULL
        """,
        "ALTER TABLE bench_admissions ADD COLUMN cetr_before boolean",
        "ALTER TABLE bench_admissions ADD COLUMN cqc text",
        """
        UPDATE bench_admissions SET cetr_before = q1 < 0.65,
            cqc = CASE WHEN q2 < 0.05 THEN 'inadequate' WHEN q2 < 0.25 THEN 'requires_improvement'
                       WHEN q2 < 0.85 THEN 'good' WHEN q2 < 0.95 THEN 'outstanding'
                       ELSE 'not_rated' END
        """,
        "ANALYZE bench_admissions",
        f"""
        INSERT INTO dsr_admission (id, created_at, updated_at, hospital_name, hospital_ods_code,
            cqc_rating, admitted_on, ward_security, mha_status, community_cetr_before_admission,
            rca_completed_on, discharged_on, discharged_by_id, recorded_by_id, person_id)
        SELECT a.id, {local_time("a.admitted_on", "12:00")},
            {local_time("coalesce(a.discharged_on, a.admitted_on)", "12:00")},
            {pick("hospital_names", "a.r_hosp")}, {pick("hospital_codes", "a.r_hosp")}, a.cqc,
            a.admitted_on,
            CASE WHEN a.q3 < 0.6 THEN 'general' WHEN a.q3 < 0.85 THEN 'low'
                 WHEN a.q3 < 0.97 THEN 'medium' ELSE 'high' END,
            CASE WHEN a.q4 < 0.5 THEN 'Section 3' WHEN a.q4 < 0.8 THEN 'Section 2'
                 ELSE 'Informal' END,
            a.cetr_before,
            CASE WHEN NOT a.cetr_before AND a.child AND a.admitted_on <= %(today)s::date - 30
                      AND a.q4 < 0.6 THEN a.admitted_on + 28 END,
            a.discharged_on,
            CASE WHEN a.discharged_on IS NOT NULL THEN {ld.staff("a.q1")} END,
            {ld.staff("a.q2")}, a.person_id
        FROM bench_admissions a
        """,
        "ANALYZE dsr_admission",
        # Key workers, parents of children, social workers and care coordinators.
        f"""
        INSERT INTO dsr_personcontact (created_at, updated_at, role, name, organisation,
            relationship, phone, email, address, has_parental_responsibility, person_id)
        SELECT %(now)s, %(now)s, v.role,
            {pick("given", R("p.n * 8 + v.seq", 44))} || ' ' ||
                CASE WHEN v.role = 'parent_carer' THEN {pick("family", "p.r_family")}
                     ELSE {pick("family", R("p.n * 8 + v.seq", 45))} END,
            v.organisation, v.relationship,
            '07700 9' || lpad(mod(p.n * 7 + v.seq, 100000)::text, 5, '0'),
            CASE WHEN v.role <> 'parent_carer'
                 THEN 'contact' || p.n || '.' || v.seq || '@partner.example'
                 ELSE '' END,
            '', v.role = 'parent_carer', p.id
        FROM bench_people p
        CROSS JOIN LATERAL (VALUES
            (1, 'key_worker', 'Key worker service', '', p.kind <> 'none' AND p.r1 < 0.5),
            (2, 'parent_carer', '',
             CASE WHEN p.r2 < 0.6 THEN 'Mother' WHEN p.r2 < 0.85 THEN 'Father'
                  ELSE 'Foster carer' END,
             p.age_days < 18 * 365),
            (3, 'social_worker', (%(area_names)s::text[])[p.la_idx] || ' County Council', '',
             p.r3 < 0.3),
            (4, 'care_coordinator', 'Community learning disability team', '',
             p.age_days >= 18 * 365 AND p.r4 < 0.3)
        ) AS v (seq, role, organisation, relationship, wanted)
        WHERE v.wanted
        """,
        f"""
        INSERT INTO dsr_personneed (created_at, updated_at, need, source, noted_on, met_on,
            met_by_id, noted_by_id, person_id)
        SELECT %(now)s, %(now)s, (%(needs)s::text[])[v.idx], 'register', v.noted_on,
            CASE WHEN v.met THEN least(v.noted_on + 60, %(today)s::date) END,
            CASE WHEN v.met THEN {ld.staff("p.r2")} END, {ld.staff("p.r3")}, p.id
        FROM bench_people p
        CROSS JOIN LATERAL (VALUES
            (1 + floor(p.r6 * {needs})::int, p.opened_on + 14, p.r7 < 0.3, p.r8 < 0.25),
            (1 + mod(floor(p.r6 * {needs})::int + 1 + floor(p.r7 * {needs - 1})::int, {needs}),
             p.opened_on + 30, false, p.r8 < 0.10)
        ) AS v (idx, noted_on, met, wanted)
        WHERE p.kind = 'open' AND v.wanted AND v.noted_on <= %(today)s::date
        """,
        f"""
        INSERT INTO dsr_cetrexception (created_at, updated_at, meeting_kind, held_on, reason,
            recorded_by_id, person_id)
        SELECT %(now)s, %(now)s, CASE WHEN p.r1 < 0.5 THEN 'laep' ELSE 'blue_light' END,
            least(%(today)s::date, e.rating_since + 3),
            'Urgent meeting held instead of a community C(E)TR: risk of admission within days.',
            {ld.staff("p.r2")}, p.id
        FROM bench_people p JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'
        WHERE p.final_rating = 'RED' AND NOT p.red_dis AND p.r7 > 0.85
        """,
    ]


def access_log(ld: Loader) -> list[str]:
    """Who read which record: about five reads a person over the last year (three thousand for
    the first person), mostly the person page, some register lists and searches."""
    R = ld.r
    row = "p.n::bigint * 4096 + t"
    return [
        f"""
        INSERT INTO dsr_accessevent (action, at, path, detail, user_id, person_id, request_id)
        SELECT CASE WHEN x.q < 0.85 THEN 'view_person' WHEN x.q < 0.95 THEN 'list_register'
                    ELSE 'search_register' END,
            %(now)s - {R(row, 121)} * interval '365 days',
            CASE WHEN x.q < 0.85 THEN '/people/' || p.id || '/'
                 WHEN x.q < 0.95 THEN '/register/people/' ELSE '/register/search/' END,
            CASE WHEN x.q < 0.85 THEN '{{}}'::jsonb
                 WHEN x.q < 0.95 THEN '{{"page": "register list"}}'::jsonb
                 ELSE '{{"page": "register search"}}'::jsonb END,
            {pick("viewers", R(row, 122), "bigint")}, p.id, md5('request-' || p.n || '-' || t)
        FROM bench_people p
        CROSS JOIN LATERAL generate_series(1, CASE WHEN p.is_long THEN 3000
            ELSE floor({R("p.n", 123)} * 10)::int END) AS t
        CROSS JOIN LATERAL (SELECT {R(row, 120)} AS q) x
        """,
    ]
