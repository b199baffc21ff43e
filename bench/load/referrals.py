"""Referrals: their rows, transitions, contacts, outcome messages and the reminders already
sent; and live referrals in bulk for the deadline sweep's benchmark."""

# Every statement here is assembled from this package's constants and integers (the seed,
# salts and sizes); every value from outside goes as a query parameter.
# ruff: noqa: S608

from bench.load.sql import (
    LIVE,
    STAGE_DAYS,
    Loader,
    local_time,
    nhs_number,
    pick,
    sequence,
)


def referral_columns() -> str:
    return """id, reference, submission_token, source, referrer_kind, received_at, decision_due,
        status, given_name, family_name, date_of_birth, nhs_number, address, postcode,
        gp_practice_name, diagnosis, diagnosis_status, co_occurring, risk_factors, risks, tried,
        would_help, has_ehcp, education_setting, social_care, other_professionals,
        communication_needs, accessible_formats, interpreter_language, referrer_name,
        referrer_role, referrer_organisation, referrer_email, referrer_phone, referrer_address,
        consent_to_referral, consent_to_share, consent_basis, consent_given_by,
        outcome_to_referrer, review_held_on, education_participant, education_absent_reason,
        social_care_participant, social_care_absent_reason, review_notes, more_info_request,
        decided_at, ineligible_reason, signposting, initial_rating, withdrawn_reason, next_steps,
        assigned_to_id, decided_by_id, duplicate_of_id, entered_by_id, local_authority_id,
        person_id, submitted_by_id"""


def referral_insert(source: str) -> str:
    """INSERT INTO referrals_referral from the plan table `source` (one row per referral: its
    id, status, dates, people and the person's details as the referrer gave them)."""
    received_on = "(s.received_at AT TIME ZONE 'Europe/London')::date"
    decided_on = "(s.decided_at AT TIME ZONE 'Europe/London')::date"
    age = f"extract(year from age({received_on}, s.dob))"
    reviewed = "s.status IN ('added', 'not_eligible')"
    professional = "s.referrer_kind = 'professional'"
    return f"""
        INSERT INTO referrals_referral ({referral_columns()})
        SELECT s.id,
            'DSR-' || to_char({received_on}, 'YYYY') || '-' || lpad(s.id::text, 7, '0'),
            md5('referral-' || s.id)::uuid, s.source, s.referrer_kind, s.received_at,
            {received_on} + %(decision_days)s, s.status, s.given_name, s.family_name, s.dob,
            CASE WHEN s.q9 < 0.1 THEN '' ELSE coalesce(s.nhs_number, '') END,
            s.address, s.postcode, s.gp_practice_name, s.diagnosis, s.diagnosis_status,
            s.co_occurring,
            jsonb_build_array({pick("factors", "s.q1")}, {pick("factors", "s.q2")}),
            {pick("notes", "s.q3")},
            'Community team input and a positive behaviour support plan.',
            'A specialist placement near the family, and short breaks.',
            CASE WHEN s.has_ehcp THEN 'yes' WHEN s.q4 < 0.7 THEN 'no' ELSE 'unsure' END,
            s.education_setting,
            CASE WHEN s.q5 < 0.6 THEN 'Known to social care; a social worker is allocated.'
                 ELSE '' END,
            'Community nurse; consultant psychiatrist.', s.communication_needs,
            s.accessible_formats, s.interpreter_language,
            CASE WHEN {professional} THEN {pick("given", "s.q6")} || ' ' || {pick("family", "s.q7")}
                 WHEN s.referrer_kind = 'family'
                      THEN {pick("given", "s.q6")} || ' ' || s.family_name
                 ELSE s.given_name || ' ' || s.family_name END,
            CASE WHEN {professional} THEN {pick("referrer_roles", "s.q8")}
                 WHEN s.referrer_kind = 'family' THEN 'Parent' ELSE '' END,
            CASE WHEN {professional} THEN {pick("referrer_orgs", "s.q8")} ELSE '' END,
            CASE WHEN {professional} THEN 'referrer.' || s.id || '@nhs.example'
                 WHEN s.referrer_kind = 'family' AND s.q5 < 0.6
                      THEN 'family.' || s.id || '@family.example' ELSE '' END,
            '01603 ' || lpad(mod(s.id, 1000000)::text, 6, '0'),
            CASE WHEN {professional} OR (s.referrer_kind = 'family' AND s.q5 < 0.6) THEN ''
                 ELSE s.address END,
            true, true,
            CASE WHEN {age} < 16 THEN 'parental_responsibility' WHEN {age} < 18 THEN 'own_consent'
                 WHEN s.q6 < 0.75 THEN 'own_consent' ELSE 'best_interests' END,
            CASE WHEN {age} < 16 THEN 'Parent with parental responsibility' ELSE '' END,
            s.q7 < 0.7,
            CASE WHEN {reviewed} THEN greatest({received_on}, {decided_on} - 1) END,
            CASE WHEN {reviewed} AND {age} < 25 THEN 'SEN officer' ELSE '' END,
            CASE WHEN {reviewed} AND {age} >= 25 THEN 'Not in education.' ELSE '' END,
            CASE WHEN {reviewed} THEN 'Social worker' ELSE '' END, '',
            CASE WHEN {reviewed} THEN 'Reviewed with education and social care.' ELSE '' END,
            CASE WHEN s.status = 'more_info'
                 THEN 'Please send the latest care plan and risk assessment.' ELSE '' END,
            s.decided_at,
            CASE WHEN s.status = 'not_eligible'
                 THEN 'No risk of admission to hospital at present.' ELSE '' END,
            CASE WHEN s.status = 'not_eligible'
                 THEN 'The community learning disability team and the local autism hub.'
                 ELSE '' END,
            CASE WHEN s.status = 'added' THEN s.initial_rating ELSE '' END,
            CASE WHEN s.status = 'withdrawn' THEN 'The family asked to withdraw the referral.'
                 ELSE '' END,
            CASE WHEN s.status = 'added' THEN 'The DSR team will contact you within a week.'
                 WHEN s.status = 'not_eligible' THEN 'Contact the services named in this letter.'
                 ELSE '' END,
            s.assigned, s.decided_by, NULL, s.entered_by, s.la_id, s.person_id, s.submitted_by
        FROM {source} s
    """


def transitions_insert(source: str) -> str:
    """Every status move of the referrals in `source`, at times between receipt and decision."""
    return f"""
        INSERT INTO referrals_referraltransition (from_status, to_status, at, reason, by_id,
            referral_id)
        SELECT v.from_status, v.to_status, v.at, v.reason, v.by_id, s.id
        FROM {source} s
        CROSS JOIN LATERAL (SELECT coalesce(s.decided_at, %(now)s) - s.received_at AS span) d
        CROSS JOIN LATERAL (VALUES
            (1, '', 'received', s.received_at, '', s.entered_by, true),
            (2, 'received', 'under_review', s.received_at + d.span * 0.3, '',
             coalesce(s.assigned, s.decided_by),
             s.status IN ('under_review', 'more_info', 'added', 'not_eligible')),
            (3, 'under_review', 'more_info', s.received_at + d.span * 0.6,
             'Asked for the latest care plan.', s.assigned, s.status = 'more_info'),
            (4, 'under_review', s.status, s.decided_at, '', s.decided_by,
             s.status IN ('added', 'not_eligible')),
            (5, 'received', 'withdrawn', s.decided_at, 'The family asked to withdraw it.',
             s.decided_by, s.status = 'withdrawn')
        ) AS v (seq, from_status, to_status, at, reason, by_id, wanted)
        WHERE v.wanted
    """


def referrals(ld: Loader) -> list[str]:
    """About two referrals a person: the one that added each person on the register, the rest
    declined or withdrawn, and one in ten still live (received, under review or waiting for
    more information) with its four-week date; transitions, contacts, the outcome messages and
    the reminders the deadline sweep has already sent."""
    R = ld.r
    row = "p.n::bigint * 16 + i"
    today = "%(today)s::date"
    return [
        "DROP TABLE IF EXISTS bench_refs",
        f"""
        CREATE TEMP TABLE bench_refs AS
        SELECT z.*, {sequence("referrals_referral")} AS id
        FROM (
            SELECT y.*,
                CASE WHEN y.status IN {LIVE} THEN NULL
                     WHEN y.status = 'added' THEN {local_time("y.opened_on", "15:00")}
                     ELSE y.received_at + (3 + y.q4 * 30) * interval '1 day' END AS decided_at,
                CASE WHEN y.status = 'received' AND y.q5 < 0.5 THEN NULL
                     ELSE {ld.staff("y.q6")} END AS assigned,
                CASE WHEN y.status NOT IN {LIVE} THEN {ld.staff("y.q7")} END AS decided_by,
                CASE WHEN y.source <> 'online' THEN {ld.staff("y.q8")} END AS entered_by,
                CASE WHEN y.source = 'online' AND y.referrer_kind = 'professional' AND y.q8 < 0.4
                     THEN {pick("referrers", "y.q9", "bigint")} END AS submitted_by
            FROM (
                SELECT x.*,
                    CASE WHEN x.status = 'added'
                         THEN {local_time("x.opened_on - 5 - floor(x.q3 * 30)::int", "11:00")}
                         WHEN x.status IN {LIVE} THEN %(now)s - x.q3 * interval '35 days'
                         ELSE %(now)s - (60 + x.q3 * 1200) * interval '1 day' END AS received_at,
                    CASE WHEN x.q4 < 0.6 THEN 'online' WHEN x.q4 < 0.75 THEN 'paper'
                         WHEN x.q4 < 0.9 THEN 'email' ELSE 'phone' END AS source,
                    CASE WHEN x.q5 < 0.75 THEN 'professional' WHEN x.q5 < 0.95 THEN 'family'
                         ELSE 'self' END AS referrer_kind
                FROM (
                    SELECT p.n, i, p.opened_on, p.dob, p.has_ehcp,
                        CASE WHEN p.kind <> 'none' AND i = 1 THEN 'added'
                             WHEN {R(row, 90)} < 0.13 THEN CASE
                                  WHEN {R(row, 91)} < 0.40 THEN 'received'
                                  WHEN {R(row, 91)} < 0.85 THEN 'under_review' ELSE 'more_info' END
                             WHEN {R(row, 91)} < 0.65 THEN 'not_eligible' ELSE 'withdrawn' END
                             AS status,
                        {R(row, 92)} AS q1, {R(row, 93)} AS q2, {R(row, 94)} AS q3,
                        {R(row, 95)} AS q4, {R(row, 96)} AS q5, {R(row, 97)} AS q6,
                        {R(row, 98)} AS q7, {R(row, 99)} AS q8, {R(row, 100)} AS q9,
                        p.id AS known_person, p.la_id AS known_la, p.kind
                    FROM bench_people p
                    CROSS JOIN LATERAL generate_series(1, CASE WHEN p.is_long THEN 12
                        ELSE 1 + floor({R("p.n", 101)} * 3)::int END) AS i
                ) x
            ) y
        ) z
        """,
        # The person's details as the referrer gave them; an unknown area or person for some
        # live referrals.
        "ALTER TABLE bench_refs ADD COLUMN person_id bigint, ADD COLUMN la_id bigint",
        f"""
        UPDATE bench_refs SET
            person_id = CASE WHEN kind = 'none' AND status IN {LIVE} AND q9 < 0.5 THEN NULL
                             ELSE known_person END,
            la_id = CASE WHEN status IN {LIVE} AND q9 > 0.92 THEN NULL ELSE known_la END
        """,
        "DROP TABLE IF EXISTS bench_ref_rows",
        """
        CREATE TEMP TABLE bench_ref_rows AS
        SELECT b.*, pe.given_name, pe.family_name, pe.nhs_number, pe.address, pe.postcode,
            pe.gp_practice_name, pe.diagnosis, pe.diagnosis_status, pe.co_occurring,
            pe.education_setting, pe.communication_needs, pe.accessible_formats,
            pe.interpreter_language, coalesce(r.rating, '') AS initial_rating
        FROM bench_refs b JOIN dsr_person pe ON pe.id = b.known_person
        LEFT JOIN bench_ratings r ON r.n = b.n AND r.j = 1 AND b.status = 'added'
        """,
        "ANALYZE bench_ref_rows",
        referral_insert("bench_ref_rows"),
        "ANALYZE referrals_referral",
        transitions_insert("bench_ref_rows"),
        f"""
        INSERT INTO referrals_referralcontact (role, name, relationship, email, phone, address,
            has_parental_responsibility, named_by_person, preferred_format, prefers_letter,
            override, override_reason, added_by_id, referral_id)
        SELECT CASE WHEN x.child THEN 'parent_carer' ELSE 'person' END,
            CASE WHEN x.child THEN {pick("given", "s.q8")} || ' ' || s.family_name
                 ELSE s.given_name || ' ' || s.family_name END,
            CASE WHEN x.child THEN 'Mother' ELSE '' END,
            CASE WHEN s.q2 < 0.5 THEN 'contact.' || s.id || '@family.example' ELSE '' END,
            '', s.address, x.child, x.child,
            CASE WHEN s.accessible_formats ? 'easy_read' THEN 'easy_read'
                 WHEN s.accessible_formats ? 'large_print' THEN 'large_print' ELSE 'standard' END,
            s.q3 < 0.2, '', '', NULL, s.id
        FROM bench_ref_rows s
        CROSS JOIN LATERAL (SELECT extract(year from age(
            (s.received_at AT TIME ZONE 'Europe/London')::date, s.dob)) < 18 AS child) x
        WHERE s.q1 < 0.5
        """,
        "ANALYZE referrals_referralcontact",
        # The outcome, to the referrer and to the contacts the rules name.
        f"""
        INSERT INTO dsr_notification (subject_type, subject_id, local_authority_id, kind,
            recipient_key, recipient_name, recipient_role, channel, email, postal_address,
            accessible_format, context, status, created_at, scheduled_for, attempts, sent_at,
            error, provider_reference, cancelled_reason)
        SELECT 'referrals.referral', f.id, f.local_authority_id, 'referral_outcome', v.key,
            v.name, v.role, v.channel, v.email, v.address, v.format,
            jsonb_build_object('reference', f.reference, 'outcome', f.status,
                'person_first_name', f.given_name, 'next_steps', f.next_steps,
                'reason', f.ineligible_reason || f.withdrawn_reason,
                'signposting', f.signposting,
                'decided_on', to_char(f.decided_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD'),
                'recipient_name', v.name),
            x.status, f.decided_at, f.decided_at, CASE WHEN x.status = 'failed' THEN 5 ELSE 1 END,
            CASE WHEN x.status = 'sent' THEN f.decided_at + interval '2 minutes' END,
            CASE WHEN x.status = 'failed' THEN 'Mailbox unavailable (550).' ELSE '' END,
            CASE WHEN x.status = 'sent' AND v.channel = 'email' THEN 'msg-' || f.id || '-' || v.key
                 ELSE '' END,
            ''
        FROM referrals_referral f
        LEFT JOIN referrals_referralcontact c ON c.referral_id = f.id
        CROSS JOIN LATERAL (VALUES
            ('referrer', f.referrer_name, 'Referrer', 'email', f.referrer_email, '', 'standard',
             f.outcome_to_referrer AND f.referrer_email <> ''),
            ('contact-' || c.id, c.name,
             CASE WHEN c.role = 'person' THEN 'The person referred' ELSE 'Parent or carer' END,
             CASE WHEN c.email = '' OR c.prefers_letter THEN 'letter' ELSE 'email' END,
             CASE WHEN c.email = '' OR c.prefers_letter THEN '' ELSE c.email END,
             CASE WHEN c.email = '' OR c.prefers_letter THEN c.address ELSE '' END,
             c.preferred_format, c.id IS NOT NULL)
        ) AS v (key, name, role, channel, email, address, format, wanted)
        CROSS JOIN LATERAL (SELECT CASE
            WHEN v.channel = 'letter' AND f.decided_at > %(now)s - interval '14 days'
                 THEN 'letter_ready'
            WHEN v.channel = 'letter' OR {R("f.id * 2 + length(v.key)", 102)} < 0.97 THEN 'sent'
            ELSE 'failed' END AS status) x
        WHERE f.status NOT IN {LIVE} AND v.wanted
        """,
        # What the four-week sweep has already inserted for the live referrals: each stage
        # reached (day 14, 21, 27 and the breach) and its message to the DSR team.
        "DROP TABLE IF EXISTS bench_stages",
        f"""
        CREATE TEMP TABLE bench_stages AS
        SELECT f.id, f.local_authority_id, f.decision_due, f.received_at, v.stage
        FROM referrals_referral f
        CROSS JOIN LATERAL (VALUES ('day14', 14), ('day21', 7), ('day27', 1), ('breach', -1))
            AS v (stage, days_before)
        WHERE f.status IN {LIVE} AND f.decision_due <= {today} + v.days_before
        """,
        f"""
        INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on, created_at)
        SELECT 'referrals.referral', s.id, 'referral_decision', s.stage, s.decision_due,
            least(%(now)s, {local_time(f"s.decision_due - {STAGE_DAYS}", "06:00")})
        FROM bench_stages s
        """,
        f"""
        INSERT INTO dsr_notification (subject_type, subject_id, local_authority_id, kind,
            recipient_key, recipient_name, recipient_role, channel, email, postal_address,
            accessible_format, context, status, created_at, scheduled_for, attempts, sent_at,
            error, provider_reference, cancelled_reason)
        SELECT 'referrals.referral', s.id, s.local_authority_id, 'referral_' || s.stage, 'team',
            'DSR team', 'DSR team', 'email', %(team_email)s, '', 'standard', '{{}}'::jsonb,
            'sent', x.at, x.at, 1, x.at + interval '1 minute', '',
            'msg-' || s.id || '-' || s.stage, ''
        FROM bench_stages s
        CROSS JOIN LATERAL (SELECT least(%(now)s - interval '1 minute',
            {local_time(f"s.decision_due - {STAGE_DAYS}", "06:00")}) AS at) x
        """,
    ]


def more_referrals(ld: Loader) -> list[str]:
    R = ld.r
    today = "%(today)s::date"
    return [
        "DROP TABLE IF EXISTS bench_more_refs",
        f"""
        CREATE TEMP TABLE bench_more_refs AS
        SELECT y.*,
            CASE WHEN y.status = 'received' AND y.q5 < 0.5 THEN NULL
                 ELSE {ld.staff("y.q6")} END AS assigned,
            NULL::bigint AS decided_by, NULL::timestamptz AS decided_at,
            CASE WHEN y.source <> 'online' THEN {ld.staff("y.q8")} END AS entered_by,
            CASE WHEN y.source = 'online' AND y.referrer_kind = 'professional' AND y.q8 < 0.4
                 THEN {pick("referrers", "y.q9", "bigint")} END AS submitted_by,
            NULL::bigint AS person_id, '' AS initial_rating
        FROM (
            SELECT x.*,
                %(now)s - x.qa * interval '30 days' AS received_at,
                CASE WHEN x.qb < 0.45 THEN 'received' WHEN x.qb < 0.9 THEN 'under_review'
                     ELSE 'more_info' END AS status,
                CASE WHEN x.q4 < 0.6 THEN 'online' WHEN x.q4 < 0.75 THEN 'paper'
                     WHEN x.q4 < 0.9 THEN 'email' ELSE 'phone' END AS source,
                CASE WHEN x.q5 < 0.75 THEN 'professional' WHEN x.q5 < 0.95 THEN 'family'
                     ELSE 'self' END AS referrer_kind,
                {pick("given", "x.qc")} AS given_name, {pick("family", "x.qd")} AS family_name,
                {today} - (2 * 365 + floor(x.qe * 60 * 365)::int) AS dob,
                {nhs_number("500000000 + x.id")} AS nhs_number,
                (1 + mod(x.id, 180))::text || ' ' || {pick("streets", "x.qf")} AS address,
                '' AS postcode,
                'The ' || {pick("streets", "x.qg")} || ' Surgery' AS gp_practice_name,
                CASE WHEN x.qh < 0.40 THEN 'learning_disability' WHEN x.qh < 0.75 THEN 'autism'
                     ELSE 'both' END AS diagnosis,
                CASE WHEN x.qh < 0.6 THEN 'confirmed' ELSE 'awaiting_assessment' END
                    AS diagnosis_status,
                '[]'::jsonb AS co_occurring, '' AS education_setting, '' AS communication_needs,
                '[]'::jsonb AS accessible_formats, '' AS interpreter_language, false AS has_ehcp,
                CASE WHEN x.q9 > 0.92 THEN NULL
                     ELSE {pick("area_ids", "x.qc", "bigint")} END AS la_id
            FROM (
                SELECT g.id,
                    {", ".join(f"{R('g.id', 130 + i)} AS q{i}" for i in range(1, 10))},
                    {", ".join(f"{R('g.id', 140 + i)} AS q{c}" for i, c in enumerate("abcdefgh"))}
                FROM (SELECT {sequence("referrals_referral")} AS id
                      FROM generate_series(1, %(count)s)) g
            ) x
        ) y
        """,
        referral_insert("bench_more_refs"),
        transitions_insert("bench_more_refs"),
    ]
