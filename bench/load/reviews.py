"""Multi-agency reviews: meetings, attendees, agenda items and actions; C(E)TRs with their
panels and recommendations, oversight visits and C(E)TR requests."""

# Every statement here is assembled from this package's constants and integers (the seed,
# salts and sizes); every value from outside goes as a query parameter.
# ruff: noqa: S608

from bench.load.sql import (
    Loader,
    local_time,
    pick,
    sequence,
)


def meetings(ld: Loader) -> list[str]:
    """Weekly multi-agency reviews per area for two years and the next four weeks, their
    attendees, agenda items for the people rated Red, Amber and Blue (and a few Green), and the
    actions agreed at the meetings held (some now overdue). The first person is on the agenda of
    every meeting in their area since they joined the register, with three actions each."""
    R = ld.r
    monday = "date_trunc('week', %(today)s::date)::date"
    item = "i.person_id::bigint * 200 + i.w + 100"
    return [
        "DROP TABLE IF EXISTS bench_meetings",
        f"""
        CREATE TEMP TABLE bench_meetings AS
        SELECT x.*, {sequence("reviews_meeting")} AS id,
            CASE WHEN x.held_at >= %(now)s THEN 'planned'
                 WHEN x.q1 < 0.03 THEN 'cancelled' ELSE 'held' END AS status,
            CASE WHEN x.q2 < 0.5 THEN %(lead)s::bigint ELSE {ld.staff("x.q3")} END AS chair
        FROM (
            SELECT a AS la_idx, w, (%(area_ids)s::bigint[])[a] AS la_id,
                {local_time(f"{monday} + w * 7 + mod(a - 1, 5)", "10:00")} AS held_at,
                {R("a * 1000 + w + 500", 50)} AS q1, {R("a * 1000 + w + 500", 51)} AS q2,
                {R("a * 1000 + w + 500", 52)} AS q3
            FROM generate_series(1, %(areas)s) AS a CROSS JOIN generate_series(-104, 4) AS w
        ) x
        """,
        "CREATE INDEX ON bench_meetings (la_idx, w)",
        "ANALYZE bench_meetings",
        f"""
        INSERT INTO reviews_meeting (id, created_at, updated_at, kind, held_at, location, status,
            notes, held_recorded_at, cancelled_reason, chair_id, created_by_id, local_authority_id)
        SELECT m.id, m.held_at - interval '14 days', m.held_at - interval '14 days',
            CASE WHEN m.q2 > 0.95 THEN 'urgent' ELSE 'dsr_review' END, m.held_at,
            {pick("locations", "m.q3")}, m.status,
            CASE WHEN m.status = 'held' THEN 'Quorate: health, education and social care present.'
                 ELSE '' END,
            CASE WHEN m.status = 'held' THEN m.held_at + interval '3 hours' END,
            CASE WHEN m.status = 'cancelled' THEN 'Not quorate: moved to the following week.'
                 ELSE '' END,
            m.chair, m.chair, m.la_id
        FROM bench_meetings m
        """,
        f"""
        INSERT INTO reviews_attendee (created_at, updated_at, name, organisation, agency,
            attendance, meeting_id)
        SELECT m.held_at - interval '14 days', m.held_at - interval '14 days',
            {pick("given", R("m.id * 8 + s", 53))} || ' '
                || {pick("family", R("m.id * 8 + s", 54))},
            (ARRAY['Community learning disability team', 'SEND service', 'Adult social care',
                   'Supported living provider', 'Advocacy service'])[s],
            (ARRAY['health', 'education', 'social_care', 'provider', 'voluntary'])[s],
            CASE WHEN m.status <> 'held' THEN 'invited'
                 WHEN {R("m.id * 8 + s", 55)} < 0.80 THEN 'present'
                 WHEN {R("m.id * 8 + s", 55)} < 0.95 THEN 'apologies' ELSE 'absent' END,
            m.id
        FROM bench_meetings m CROSS JOIN generate_series(1, 5) AS s
        """,
        "DROP TABLE IF EXISTS bench_items",
        f"""
        CREATE TEMP TABLE bench_items AS
        SELECT d.*, {sequence("reviews_agendaitem")} AS id
        FROM (
            SELECT DISTINCT ON (m.id, c.person_id) c.person_id, c.n, c.final_rating, c.is_long,
                m.id AS meeting_id, m.w, m.held_at, m.status, m.chair, m.la_idx
            FROM (
                SELECT p.id AS person_id, p.n, p.final_rating, p.is_long, p.la_idx, t,
                    greatest(-104, ceil((p.opened_on - {monday}) / 7.0)::int) AS first_week
                FROM bench_people p
                CROSS JOIN LATERAL generate_series(1, CASE
                    WHEN p.is_long THEN 0
                    WHEN p.final_rating = 'RED' THEN 4 + floor(p.r1 * 6)::int
                    WHEN p.final_rating = 'AMBER' THEN 2 + floor(p.r1 * 4)::int
                    WHEN p.final_rating = 'BLUE' THEN 2 + floor(p.r1 * 3)::int
                    WHEN p.r1 < 0.15 THEN 1 ELSE 0 END) AS t
                WHERE p.kind = 'open'
            ) c
            JOIN bench_meetings m ON m.la_idx = c.la_idx AND m.status <> 'cancelled'
                AND m.w = c.first_week + floor({R("c.person_id * 16 + c.t", 56)}
                                              * (5 - c.first_week))::int
            UNION ALL
            SELECT p.id, p.n, p.final_rating, true, m.id, m.w, m.held_at, m.status, m.chair,
                m.la_idx
            FROM bench_people p
            JOIN bench_meetings m ON m.la_idx = p.la_idx AND m.status <> 'cancelled'
                AND m.held_at >= {local_time("p.opened_on", "00:00")}
            WHERE p.is_long
        ) d
        """,
        "ANALYZE bench_items",
        f"""
        INSERT INTO reviews_agendaitem (id, created_at, updated_at, reasons, risk_factors,
            risk_notes, discussion, discussed_at, added_by_id, discussed_by_id, person_id,
            meeting_id)
        SELECT i.id, i.held_at - interval '7 days', i.held_at - interval '7 days',
            CASE i.final_rating WHEN 'RED' THEN '["red"]'::jsonb
                 WHEN 'AMBER' THEN '["amber_due"]' WHEN 'BLUE' THEN '["cetr_due"]'
                 ELSE '["by_hand"]' END,
            CASE WHEN i.status = 'held' THEN jsonb_build_array({pick("factors", R(item, 57))})
                 ELSE '[]'::jsonb END,
            CASE WHEN i.status = 'held' THEN {pick("notes", R(item, 58))} ELSE '' END,
            CASE WHEN i.status = 'held'
                 THEN 'Discussed with the family and the provider; plan agreed.' ELSE '' END,
            CASE WHEN i.status = 'held' THEN i.held_at + interval '1 hour' END,
            CASE WHEN i.final_rating = 'GREEN' THEN i.chair END,
            CASE WHEN i.status = 'held' THEN i.chair END,
            i.person_id, i.meeting_id
        FROM bench_items i
        """,
        f"""
        INSERT INTO reviews_action (created_at, updated_at, source, description, owner_name,
            owner_organisation, owner_email, agency, due_on, status, completion_note, closed_on,
            closed_by_id, created_by_id, owner_id, person_id, agenda_item_id, cetr_id, visit_id)
        SELECT x.created, x.created, 'meeting', {pick("actions", "x.q1")},
            CASE WHEN x.named THEN {pick("given", "x.q2")} || ' ' || {pick("family", "x.q3")}
                 ELSE '' END,
            CASE WHEN x.named THEN {pick("referrer_orgs", "x.q3")} ELSE '' END,
            CASE WHEN x.named THEN 'owner' || x.id || '.' || x.a || '@partner.example' ELSE '' END,
            {pick("agencies", "x.q4")}, x.due_on, x.status,
            CASE WHEN x.status = 'cancelled'
                 THEN 'No longer needed: the plan changed at the review.'
                 WHEN x.status = 'done' THEN 'Done and confirmed at the next review.' ELSE '' END,
            CASE WHEN x.status <> 'open' THEN least(%(today)s::date,
                 greatest(x.held_on, x.due_on - 7 + floor(x.q2 * 14)::int)) END,
            CASE WHEN x.status <> 'open' THEN x.chair END,
            x.chair,
            CASE WHEN NOT x.named THEN {pick("action_owners", "x.q4", "bigint")} END,
            x.person_id, x.id, NULL, NULL
        FROM (
            SELECT i.id, i.person_id, i.chair, a, i.held_at + interval '2 hours' AS created,
                (i.held_at AT TIME ZONE 'Europe/London')::date AS held_on,
                (i.held_at AT TIME ZONE 'Europe/London')::date + 14
                    + floor({R("i.id * 4 + a", 59)} * 42)::int AS due_on,
                {R("i.id * 4 + a", 60)} AS q1, {R("i.id * 4 + a", 61)} AS q2,
                {R("i.id * 4 + a", 62)} AS q3, {R("i.id * 4 + a", 63)} AS q4,
                {R("i.id * 4 + a", 64)} < 0.55 AS named,
                {R("i.id * 4 + a", 65)} AS q5
            FROM bench_items i
            CROSS JOIN LATERAL generate_series(1, CASE WHEN i.is_long THEN 3
                ELSE floor({R("i.id", 66)} * 2.6)::int END) AS a
            WHERE i.status = 'held'
        ) y
        CROSS JOIN LATERAL (SELECT y.*, CASE WHEN y.due_on >= %(today)s::date THEN 'open'
            WHEN y.q5 < 0.75 THEN 'done' WHEN y.q5 < 0.80 THEN 'cancelled' ELSE 'open' END
            AS status) x
        """,
        "ANALYZE reviews_meeting, reviews_agendaitem, reviews_action",
    ]


FINDINGS = (
    "'Yes: the ward keeps them safe; observations reduced this month.'",
    "'Mostly: the care plan is followed; more activity off the ward is needed.'",
    "'A discharge plan is in draft with a named provider and a date to aim for.'",
    "'Yes, with a specialist provider and a crisis plan agreed with the family.'",
)


def cetrs(ld: Loader) -> list[str]:
    """C(E)TRs: post-admission ones for everyone admitted (held, or planned while still due),
    the next inpatient one for long stays, community ones for most people rated Red and some
    Amber; their panels, their recommendations (actions), oversight visits to people in
    hospital out of area, and C(E)TR requests."""
    R = ld.r
    today = "%(today)s::date"
    child = f"extract(year from age(coalesce(c.held_on, {today}), c.dob)) < 18"
    return [
        "DROP TABLE IF EXISTS bench_cetrs",
        f"""
        CREATE TEMP TABLE bench_cetrs AS
        SELECT s.*, {sequence("reviews_cetr")} AS id,
            {R("s.key", 70)} AS q1, {R("s.key", 71)} AS q2, {R("s.key", 72)} AS q3
        FROM (
            -- After an admission: due in 10 working days (a child; here 14 days) or 28 days.
            SELECT a.person_id, a.n, a.dob, 'post_admission' AS kind, a.id AS admission_id,
                a.admitted_on + CASE WHEN a.child THEN 14 ELSE 28 END AS due_on,
                CASE WHEN a.discharged_on IS NOT NULL OR (a.admitted_on
                          + CASE WHEN a.child THEN 14 ELSE 28 END < {today} AND a.q1 < 0.85)
                     THEN least({today}, a.admitted_on
                          + floor(a.q3 * CASE WHEN a.child THEN 14 ELSE 28 END)::int)
                     END AS held_on,
                a.child, a.n::bigint * 16 + 1 AS key
            FROM bench_admissions a
            UNION ALL
            -- The next inpatient C(E)TR of a long stay (3 months for a child, 6 for an adult).
            SELECT a.person_id, a.n, a.dob, 'inpatient', a.id,
                (a.admitted_on + 28 + CASE WHEN a.child THEN interval '3 months'
                 ELSE interval '6 months' END)::date, NULL, a.child, a.n::bigint * 16 + 2
            FROM bench_admissions a
            WHERE a.discharged_on IS NULL AND a.admitted_on < {today} - 120
            UNION ALL
            -- Community C(E)TRs: most people rated Red, some Amber.
            SELECT p.id, p.n, p.dob, 'community', NULL,
                NULL,
                CASE WHEN p.final_rating = 'AMBER' THEN greatest(p.opened_on,
                          {today} - 10 - floor(p.r2 * 200)::int)
                     WHEN p.r2 < 0.5 THEN least({today}, e.rating_since + 1 + floor(p.r3 * 10)::int)
                     END,
                p.age_days < 18 * 365, p.n::bigint * 16 + 3
            FROM bench_people p JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'
            WHERE (p.final_rating = 'RED' AND NOT p.red_dis AND p.r7 < 0.7)
                OR (p.final_rating = 'AMBER' AND NOT p.is_long AND p.r7 < 0.1)
            UNION ALL
            SELECT p.id, p.n, p.dob, 'community', NULL, NULL, p.opened_on + t * 280, false,
                p.n::bigint * 16 + 4 + t
            FROM bench_people p CROSS JOIN generate_series(1, 10) AS t WHERE p.is_long
        ) s
        """,
        "ALTER TABLE bench_cetrs ADD COLUMN status text",
        "ALTER TABLE bench_cetrs ADD COLUMN scheduled_on date",
        "ALTER TABLE bench_cetrs ADD COLUMN education boolean",
        f"""
        UPDATE bench_cetrs c SET
            status = CASE WHEN c.held_on IS NOT NULL THEN 'completed'
                          WHEN c.q1 < 0.03 THEN 'cancelled' ELSE 'planned' END,
            scheduled_on = CASE WHEN c.held_on IS NOT NULL THEN c.held_on
                                WHEN c.due_on >= {today} THEN c.due_on
                                ELSE {today} + 1 + floor(c.q2 * 20)::int END,
            education = {child} OR (extract(year from age({today}, c.dob)) < 25
                AND EXISTS (SELECT 1 FROM bench_people p WHERE p.n = c.n AND p.has_ehcp))
        """,
        "ANALYZE bench_cetrs",
        f"""
        INSERT INTO reviews_cetr (id, created_at, updated_at, kind, education_element, due_on,
            scheduled_on, invitations_sent_on, pack_sent_at, status, consent_basis,
            consent_evidence, consent_recorded_on, consent_decision_maker,
            consent_capacity_assessed_on, finding_safe, finding_good_care,
            finding_future, finding_community, held_on, report_sent_on, next_due_on,
            cancelled_reason, admission_id, completed_by_id, consent_recorded_by_id,
            created_by_id, person_id)
        SELECT c.id, x.created, x.created, c.kind, c.education, c.due_on, c.scheduled_on,
            CASE WHEN c.scheduled_on - 14 <= {today} THEN c.scheduled_on - 14 END,
            CASE WHEN c.scheduled_on - 5 <= {today}
                 THEN {local_time("c.scheduled_on - 5", "16:00")} END,
            c.status,
            x.basis,
            CASE WHEN x.consent THEN 'Consent form signed; a copy is on the record.' ELSE '' END,
            CASE WHEN x.consent THEN least({today}, c.scheduled_on - 7) END,
            -- A best-interests decision names its decision maker and when capacity was assessed.
            CASE WHEN x.basis = 'best_interests' THEN 'Responsible clinician' ELSE '' END,
            CASE WHEN x.basis = 'best_interests' THEN least({today}, c.scheduled_on - 7) END,
            {", ".join(f"CASE WHEN c.status = 'completed' THEN {f} ELSE '' END" for f in FINDINGS)},
            c.held_on,
            CASE WHEN c.held_on + 10 <= {today} THEN c.held_on + 10 END,
            CASE WHEN c.status = 'completed' AND c.kind <> 'community' THEN (c.held_on
                 + CASE WHEN c.child THEN interval '3 months' ELSE interval '6 months' END)::date
                 END,
            CASE WHEN c.status = 'cancelled'
                 THEN 'The person asked to move it; a new date is being set.'
                 ELSE '' END,
            c.admission_id,
            CASE WHEN c.status = 'completed' THEN {ld.staff("c.q1")} END,
            CASE WHEN x.consent THEN {ld.staff("c.q2")} END,
            {ld.staff("c.q3")}, c.person_id
        FROM bench_cetrs c
        CROSS JOIN LATERAL (SELECT
            least(%(now)s, {local_time("coalesce(c.due_on, c.scheduled_on) - 21", "09:00")})
                AS created,
            c.status = 'completed' OR c.q2 < 0.5 AS consent) x0
        CROSS JOIN LATERAL (SELECT x0.created, x0.consent,
            CASE WHEN x0.consent THEN CASE WHEN extract(year from age(c.scheduled_on, c.dob)) < 16
                 THEN 'parental_responsibility' WHEN c.q3 < 0.8 THEN 'own_consent'
                 ELSE 'best_interests' END ELSE '' END AS basis) x
        """,
        "ANALYZE reviews_cetr",
        f"""
        INSERT INTO reviews_panelmember (created_at, updated_at, role, name, organisation,
            delegated_chair, professional_registration, conflicts_declared, conflicts, cetr_id,
            user_id)
        SELECT %(now)s, %(now)s, v.role,
            {pick("given", R("c.id * 4 + v.seq", 73))} || ' '
                || {pick("family", R("c.id * 4 + v.seq", 74))},
            v.organisation, v.role = 'chair' AND c.q1 < 0.3,
            CASE WHEN v.role = 'clinical_expert' THEN 'GMC ' || (7000000 + mod(c.id, 999999))::text
                 ELSE '' END,
            c.status = 'completed', '', c.id,
            CASE WHEN v.role = 'expert_by_experience' AND c.q2 < 0.5
                 THEN {pick("panel", "c.q3", "bigint")} END
        FROM bench_cetrs c
        CROSS JOIN LATERAL (VALUES
            (1, 'chair', 'NHS Bench Integrated Care Board'),
            (2, 'clinical_expert', 'Independent clinical expert'),
            (3, 'expert_by_experience', 'Experts by experience programme')
        ) AS v (seq, role, organisation)
        """,
        f"""
        INSERT INTO reviews_action (created_at, updated_at, source, description, owner_name,
            owner_organisation, owner_email, agency, due_on, status, completion_note, closed_on,
            closed_by_id, created_by_id, owner_id, person_id, agenda_item_id, cetr_id, visit_id)
        SELECT x.created, x.created, 'cetr', {pick("actions", "x.q1")},
            {pick("given", "x.q2")} || ' ' || {pick("family", "x.q3")},
            {pick("referrer_orgs", "x.q3")}, '', {pick("agencies", "x.q4")}, x.due_on, x.status,
            CASE WHEN x.status = 'done' THEN 'Done; the panel chair was told.' ELSE '' END,
            CASE WHEN x.status = 'done' THEN least({today}, x.due_on) END,
            CASE WHEN x.status = 'done' THEN x.staff END,
            x.staff, NULL, x.person_id, NULL, x.cetr_id, NULL
        FROM (
            SELECT c.id AS cetr_id, c.person_id, {local_time("c.held_on", "15:00")} AS created,
                c.held_on + 28 AS due_on, {ld.staff("c.q2")} AS staff,
                {R("c.id * 4 + a", 75)} AS q1, {R("c.id * 4 + a", 76)} AS q2,
                {R("c.id * 4 + a", 77)} AS q3, {R("c.id * 4 + a", 78)} AS q4,
                CASE WHEN c.held_on + 28 >= {today} THEN 'open'
                     WHEN {R("c.id * 4 + a", 79)} < 0.8 THEN 'done' ELSE 'open' END AS status
            FROM bench_cetrs c CROSS JOIN generate_series(1, 1 + floor(c.q3 * 2)::int) AS a
            WHERE c.status = 'completed'
        ) x
        """,
        f"""
        INSERT INTO reviews_oversightvisit (created_at, updated_at, visited_on, visited_by,
            findings, concerns, admission_id, person_id, recorded_by_id)
        SELECT {local_time("a.admitted_on + v * 56 - 7", "16:00")},
            {local_time("a.admitted_on + v * 56 - 7", "16:00")},
            a.admitted_on + v * 56 - 7, 'Commissioning case manager',
            'Seen on the ward; care plan reviewed with the named nurse.',
            {R("a.n * 8 + v", 80)} < 0.1,
            a.id, a.person_id, {ld.staff(R("a.n * 8 + v", 81))}
        FROM bench_admissions a
        CROSS JOIN generate_series(1, least(4, ({today} - a.admitted_on) / 56)) AS v
        WHERE a.discharged_on IS NULL AND a.out_of_area
        """,
        f"""
        INSERT INTO reviews_cetrrequest (created_at, updated_at, reference, submission_token,
            channel, received_at, relationship, requester_name, requester_organisation,
            requester_email, requester_phone, requester_address, contact_by, given_name,
            family_name, date_of_birth, nhs_number, postcode, in_hospital, hospital_name, reason,
            person_knows, status, decline_reason, triaged_at, cetr_id, entered_by_id,
            local_authority_id, person_id, triaged_by_id)
        SELECT x.received, x.received,
            'CR-' || to_char(x.received, 'YYYY') || '-' || lpad(x.n::text, 6, '0'),
            md5('cetr-request-' || x.n)::uuid, CASE WHEN x.q1 < 0.7 THEN 'online' ELSE 'staff' END,
            x.received,
            CASE WHEN x.q2 < 0.4 THEN 'family' WHEN x.q2 < 0.6 THEN 'carer'
                 WHEN x.q2 < 0.8 THEN 'advocate' ELSE 'professional' END,
            {pick("given", "x.q3")} || ' ' || pe.family_name, '',
            CASE WHEN x.q4 < 0.8 THEN 'requester' || x.n || '@family.example' ELSE '' END, '',
            CASE WHEN x.q4 < 0.8 THEN '' ELSE pe.address END,
            CASE WHEN x.q4 < 0.8 THEN 'email' ELSE 'letter' END,
            pe.given_name, pe.family_name, pe.date_of_birth, coalesce(pe.nhs_number, ''),
            pe.postcode,
            CASE WHEN x.in_hospital THEN 'yes' ELSE 'no' END,
            CASE WHEN x.in_hospital THEN 'Hellesdon Hospital' ELSE '' END,
            'Things are getting worse at home and we are worried about a hospital admission.',
            true, x.status,
            CASE WHEN x.status = 'declined'
                 THEN 'A community C(E)TR was held last month; the actions from it are under way.'
                 ELSE '' END,
            CASE WHEN x.status <> 'received' THEN x.received + interval '2 days' END,
            CASE WHEN x.status = 'arranged' THEN x.cetr_id END,
            CASE WHEN x.q1 >= 0.7 THEN {ld.staff("x.q5")} END,
            pe.local_authority_id, pe.id,
            CASE WHEN x.status <> 'received' THEN {ld.staff("x.q5")} END
        FROM (
            SELECT p.n, p.id AS person_id, p.admitted_on IS NOT NULL AND p.discharged_on IS NULL
                    AS in_hospital, c.cetr_id,
                CASE WHEN c.cetr_id IS NOT NULL AND p.r4 < 0.6 THEN 'arranged'
                     WHEN p.r4 < 0.8 THEN 'declined' ELSE 'received' END AS status,
                CASE WHEN c.cetr_id IS NOT NULL AND p.r4 < 0.6
                     THEN least(%(now)s, c.created - interval '2 days')
                     ELSE %(now)s - floor(p.r5 * 300) * interval '1 day' END AS received,
                p.r1 AS q1, p.r2 AS q2, p.r3 AS q3, p.r6 AS q4, p.r7 AS q5
            FROM bench_people p
            LEFT JOIN (
                SELECT DISTINCT ON (person_id) person_id, id AS cetr_id, created_at AS created
                FROM reviews_cetr ORDER BY person_id, id
            ) c ON c.person_id = p.id
            WHERE p.kind <> 'none' AND p.r8 > 0.985
        ) x JOIN dsr_person pe ON pe.id = x.person_id
        """,
    ]
