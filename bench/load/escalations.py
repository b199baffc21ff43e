"""Escalations, their transitions and notes, and the messages to their owners."""

# Every statement here is assembled from this package's constants and integers (the seed,
# salts and sizes); every value from outside goes as a query parameter.
# ruff: noqa: S608

from bench.load.sql import (
    LIVE,
    Loader,
    local_time,
    sequence,
    working_days_after,
)


def escalations(ld: Loader) -> list[str]:
    """Escalations for what the rules see today (Red people, Amber unreviewed, reviews overdue,
    overdue actions, admissions without a community C(E)TR or to inadequate hospitals, referrals
    past four weeks), mostly open or acknowledged at several levels; resolved ones for the
    Red spells and reviews of the past. Their transitions, notes and messages to owners."""
    R = ld.r
    today = "%(today)s::date"
    now = "%(now)s"
    red_start = "b.rating = 'RED' AND b.previous_rating <> 'RED'"
    return [
        "DROP TABLE IF EXISTS bench_esc",
        f"""
        CREATE TEMP TABLE bench_esc AS
        SELECT s.*, {sequence("escalation_escalation")} AS id
        FROM (
            -- The Red spell of each person rated Red now.
            SELECT DISTINCT ON (b.n) 'red_rating' AS reason, 1 AS reason_no,
                'dsr.rating' AS trigger_type, b.id AS trigger_id, b.person_id, b.la_idx,
                2 AS raised_level, least({now}, {local_time("b.eff", "09:10")}) AS raised_at,
                true AS live
            FROM bench_ratings b JOIN bench_people p USING (n)
            WHERE p.kind = 'open' AND p.final_rating = 'RED' AND {red_start}
            ORDER BY b.n, b.j DESC
        ) s
        """,
        f"""
        INSERT INTO bench_esc
        SELECT s.*, {sequence("escalation_escalation")}
        FROM (
            -- Red spells of the past (half of them raised), all of the first person's.
            SELECT 'red_rating', 1, 'dsr.rating', b.id, b.person_id, b.la_idx, 2,
                {local_time("b.eff", "09:10")}, false
            FROM bench_ratings b
            WHERE {red_start} AND (b.is_long OR b.q1 < 0.5)
                AND b.id NOT IN (SELECT x.trigger_id FROM bench_esc x)
            UNION ALL
            -- Reviews of the first person that came late, long since done.
            SELECT 'rating_review_overdue', 8, 'dsr.rating', b.id, b.person_id, b.la_idx, 1,
                {local_time("b.eff + 1", "07:00")}, false
            FROM bench_ratings b
            WHERE b.is_long AND b.j < b.k AND b.rating IN ('AMBER', 'GREEN') AND b.q2 < 0.4
            UNION ALL
            SELECT 'amber_unreviewed', 2, 'dsr.rating', b.id, b.person_id, b.la_idx, 1,
                least({now}, {local_time("e.rating_reviewed_on + %(amber_days)s + 1", "07:00")}),
                true
            FROM dsr_registerentry e JOIN bench_ratings b ON b.entry_id = e.id AND b.j = b.k
            WHERE e.status = 'open' AND e.rating = 'AMBER'
                AND e.rating_reviewed_on < {today} - %(amber_days)s
            UNION ALL
            SELECT 'rating_review_overdue', 8, 'dsr.rating', b.id, b.person_id, b.la_idx, 1,
                least({now}, {local_time("e.rating_review_due + 1", "07:00")}), true
            FROM dsr_registerentry e JOIN bench_ratings b ON b.entry_id = e.id AND b.j = b.k
            WHERE e.status = 'open' AND e.rating NOT IN ('AMBER', 'BLUE')
                AND e.rating_review_due < {today}
            UNION ALL
            SELECT 'overdue_action', 4, 'reviews.action', a.id, a.person_id, p.la_idx, 1,
                least({now}, {local_time("a.due_on + 1", "07:00")}), true
            FROM reviews_action a JOIN bench_people p ON p.id = a.person_id
            WHERE a.status = 'open' AND a.due_on < {today} AND p.kind = 'open'
                AND p.final_rating IN ('RED', 'AMBER')
            UNION ALL
            SELECT 'admission_without_cetr', 5, 'dsr.admission', a.id, a.person_id, a.la_idx, 2,
                least({now}, {local_time("a.admitted_on", "12:30")}), true
            FROM bench_admissions a WHERE a.discharged_on IS NULL AND NOT a.cetr_before
            UNION ALL
            SELECT 'inadequate_hospital', 6, 'dsr.admission', a.id, a.person_id, a.la_idx, 3,
                least({now}, {local_time("a.admitted_on", "12:30")}), true
            FROM bench_admissions a WHERE a.discharged_on IS NULL AND a.cqc = 'inadequate'
            UNION ALL
            SELECT 'referral_overdue', 7, 'referrals.referral', f.id, f.person_id,
                array_position(%(area_ids)s::bigint[], f.local_authority_id), 1,
                least({now}, {local_time("f.decision_due + 1", "00:05")}), true
            FROM referrals_referral f
            WHERE f.status IN {LIVE} AND f.decision_due < {today}
        ) s
        """,
        "DROP TABLE IF EXISTS bench_esc_plan",
        f"""
        CREATE TEMP TABLE bench_esc_plan AS
        SELECT y.*,
            CASE WHEN y.acknowledged THEN least({now} - interval '1 minute',
                 y.clock_from + {R("y.id", 113)} * interval '2 days') END AS acknowledged_at,
            CASE WHEN y.status = 'resolved' THEN least({now} - interval '1 minute',
                 y.clock_from + (1 + {R("y.id", 114)} * 20) * interval '1 day') END AS resolved_at,
            {ld.owner("y.level", "y.la_idx", R("y.id", 115))} AS owner,
            {ld.owner("y.raised_level", "y.la_idx", R("y.id", 115))} AS raised_owner,
            {
            working_days_after(
                "(y.clock_from AT TIME ZONE 'Europe/London')::date",
                "CASE WHEN y.rating = 'RED' THEN 1 ELSE 3 END",
            )
        } AS ack_due_on
        FROM (
            SELECT x.*,
                x.raised_level + x.moved::int AS level,
                CASE WHEN x.moved THEN x.raised_at + interval '2 days' ELSE x.raised_at END
                    AS clock_from,
                x.status = 'acknowledged' OR (x.status = 'resolved' AND x.q2 < 0.6)
                    AS acknowledged
            FROM (
                SELECT e.*, coalesce(re.rating, '') AS rating, {
            R("e.trigger_id * 16 + e.reason_no", 116)
        } AS q2,
                    CASE WHEN NOT e.live THEN 'resolved'
                         WHEN {R("e.trigger_id * 16 + e.reason_no", 110)} < 0.55 THEN 'open'
                         WHEN {R("e.trigger_id * 16 + e.reason_no", 110)} < 0.85 THEN 'acknowledged'
                         ELSE 'resolved' END AS status,
                    e.live AND e.raised_level < 3 AND e.raised_at < {now} - interval '3 days'
                        AND {R("e.trigger_id * 16 + e.reason_no", 111)} < 0.2
                        AND {R("e.trigger_id * 16 + e.reason_no", 110)} < 0.85 AS moved
                FROM bench_esc e
                LEFT JOIN dsr_registerentry re ON re.person_id = e.person_id AND re.status = 'open'
            ) x
        ) y
        """,
        "ANALYZE bench_esc_plan",
        f"""
        INSERT INTO escalation_escalation (id, reason, trigger_type, trigger_id, level, status,
            raised_at, note, local_authority_id, person_id, raised_by_id, ack_due_on,
            acknowledged_at, acknowledged_by_id, outcome, resolved_at, resolved_by_id)
        SELECT e.id, e.reason, e.trigger_type, e.trigger_id, e.level, e.status, e.raised_at,
            'Raised by the escalation rules.', (%(area_ids)s::bigint[])[e.la_idx], e.person_id,
            NULL, e.ack_due_on, e.acknowledged_at,
            CASE WHEN e.acknowledged THEN e.owner END,
            CASE WHEN e.status <> 'resolved' THEN ''
                 WHEN e.live THEN 'Plan agreed with the provider; risk now managed.'
                 ELSE 'The cause cleared: the rating changed at the next review.' END,
            e.resolved_at,
            CASE WHEN e.status = 'resolved' AND (e.live OR {R("e.id", 117)} < 0.5) THEN e.owner END
        FROM bench_esc_plan e
        """,
        """
        INSERT INTO escalation_escalationtransition (from_status, to_status, at, reason, by_id,
            escalation_id, from_level, to_level)
        SELECT v.from_status, v.to_status, v.at, v.reason, v.by_id, e.id, v.from_level, v.to_level
        FROM bench_esc_plan e
        CROSS JOIN LATERAL (VALUES
            ('', 'open', e.raised_at, 'Raised by the escalation rules.', NULL::bigint, NULL::int,
             e.raised_level, true),
            ('open', 'open', e.clock_from, 'Not acknowledged in time: moved up a level.', NULL,
             e.raised_level, e.level, e.moved),
            ('open', 'acknowledged', e.acknowledged_at, '', e.owner, NULL, NULL, e.acknowledged),
            (CASE WHEN e.acknowledged THEN 'acknowledged' ELSE 'open' END, 'resolved',
             e.resolved_at, 'Resolved.', e.owner, NULL, NULL, e.status = 'resolved')
        ) AS v (from_status, to_status, at, reason, by_id, from_level, to_level, wanted)
        WHERE v.wanted
        """,
        f"""
        INSERT INTO escalation_escalationnote (at, text, by_id, escalation_id)
        SELECT least({now}, e.acknowledged_at + interval '1 hour'),
            'Spoke to the care coordinator; a meeting with the provider is booked.', e.owner, e.id
        FROM bench_esc_plan e WHERE e.acknowledged AND {R("e.id", 118)} < 0.6
        """,
        """
        INSERT INTO dsr_notification (subject_type, subject_id, local_authority_id, kind,
            recipient_key, recipient_name, recipient_role, channel, email, postal_address,
            accessible_format, context, status, created_at, scheduled_for, attempts, sent_at,
            error, provider_reference, cancelled_reason)
        SELECT 'escalation.escalation', e.id, (%(area_ids)s::bigint[])[e.la_idx], v.kind,
            'user-' || u.id || '-level-' || v.level, u.full_name,
            (%(level_names)s::text[])[v.level],
            'email', u.email, '', 'standard', '{}'::jsonb, 'sent', v.at, v.at, 1,
            v.at + interval '1 minute', '', 'msg-esc-' || e.id || '-' || v.level, ''
        FROM bench_esc_plan e
        CROSS JOIN LATERAL (VALUES
            ('escalation_raised', e.raised_level, e.raised_at, e.raised_owner, true),
            ('escalation_level_up', e.level, e.clock_from, e.owner, e.moved)
        ) AS v (kind, level, at, owner, wanted)
        JOIN dsr_user u ON u.id = v.owner
        WHERE v.wanted
        """,
    ]
